"""The worst case of each file parser at its stated limit: time and peak memory (issue 13).

    python benchmarks/bench_parsers.py            # every case
    python benchmarks/bench_parsers.py csv ofx    # some of them

Each case runs in a fresh process (so the peak resident memory is its own): the process imports the
app's modules, notes its resident memory, builds the file, then times the parser. ``peak_mb`` is the
peak resident memory minus what the process held before the parser ran (the file itself is read
before). ``cpu_seconds`` is the process's CPU time: on a shared, loaded machine it is the better
estimate of the wall time on an idle one. Targets: under 10 s and 300 MB each. Cases:

- csv: inspect_csv + parse_csv of MAX_IMPORT_ROWS rows (the 20 MB upload limit full): every date
  and amount different (no cache helps), currency signs and thousands separators, long payees and
  descriptions.
- csv_wide: a CSV of 1,000,000 columns (refused at MAX_CSV_COLUMNS, reading only the first 256 KiB).
- ofx: parse_ofx of MAX_OFX_TAGS tags with long names and memos, up to the 20 MB upload limit.
- archive: read_archive of an export at MAX_ARCHIVE_ROWS rows and MAX_ARCHIVE_UNCOMPRESSED bytes.
- archive_bomb: a zip of ~100 KiB whose transactions.csv is 1.6M tiny rows (refused while streaming at
  MAX_ARCHIVE_ROWS; a zip declaring more than MAX_ARCHIVE_UNCOMPRESSED is refused before reading).
"""
from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

from common import ROOT  # noqa: F401  (puts the project on sys.path)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def make_csv() -> bytes:
    from dashboard.services import importer as imp
    rows = []
    for i in range(imp.MAX_IMPORT_ROWS):
        day = f"{1 + i % 28:02d}/{1 + (i // 28) % 12:02d}/{1990 + i % 200}"
        amount = f'"-${i % 9:d},{i % 1000:03d}.{i % 100:02d}"'
        payee = f"MERCHANT {i:08d} " + "X" * 60
        rows.append(f"{day},{amount},{payee},Memo for row {i} " + "y" * 60)
    body = "Date,Amount,Payee,Description\n" + "\n".join(rows) + "\n"
    data = body.encode()
    assert len(data) <= imp.MAX_UPLOAD_BYTES, len(data)
    return data


def case_csv(data: bytes) -> dict:
    from dashboard.services import importer as imp
    before = _rss_mb()
    start = time.perf_counter()
    guess = imp.inspect_csv(data)
    result = imp.parse_csv(data, guess.mapping)
    seconds = time.perf_counter() - start
    assert len(result.rows) == imp.MAX_IMPORT_ROWS, (len(result.rows), result.error_count, result.errors[:2])
    return {"seconds": seconds, "before": before, "rows": len(result.rows), "bytes": len(data)}


def make_csv_wide() -> bytes:
    return b",".join([b"c"] * 1_000_000) + b"\n" + b",".join([b"1"] * 1_000_000) + b"\n"


def case_csv_wide(data: bytes) -> dict:
    from dashboard.services import importer as imp
    before = _rss_mb()
    start = time.perf_counter()
    try:
        imp.inspect_csv(data)
        refused = False
    except imp.ImportFileError:
        refused = True
    seconds = time.perf_counter() - start
    assert refused
    return {"seconds": seconds, "before": before, "rows": 1, "bytes": len(data), "refused": 1}


def make_ofx() -> tuple[bytes, int]:
    from dashboard.services import importer as imp
    head = (b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
            b"COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
            b"<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>2"
            b"<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20240101<DTEND>20240102\n")
    tail = (b"</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20240101</LEDGERBAL></STMTRS></STMTTRNRS>"
            b"</BANKMSGSRSV1></OFX>\n")
    trn = (b"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>2024%02d%02d120000\n<TRNAMT>-%d.%02d\n<FITID>%d\n"
           b"<NAME>" + b"N" * 30 + b" %d\n<MEMO>" + b"M" * 200 + b"\n</STMTTRN>\n")
    tags_each = trn.count(b"<")
    count = (imp.MAX_OFX_TAGS - head.count(b"<") - tail.count(b"<")) // tags_each
    body = b"".join(trn % (1 + i % 12, 1 + i % 28, i % 5000, i % 100, i, i) for i in range(count))
    data = head + body + tail
    assert len(data) <= imp.MAX_UPLOAD_BYTES and data.count(b"<") <= imp.MAX_OFX_TAGS
    return data, count


def case_ofx(data: bytes) -> dict:
    from dashboard.services import importer as imp
    count = data.count(b"<STMTTRN>")
    end = data.index(b"</STMTTRN>") + len(b"</STMTTRN>\n")
    small = data[:end] + data[data.rindex(b"</BANKTRANLIST>"):]
    imp.parse_ofx(small)   # ofxtools imports itself on first use: not part of the parse
    before = _rss_mb()
    start = time.perf_counter()
    result = imp.parse_ofx(data)
    seconds = time.perf_counter() - start
    assert len(result.rows) == count, (len(result.rows), result.errors[:2])
    return {"seconds": seconds, "before": before, "rows": count, "bytes": len(data)}



def make_archive(rows_limit: int, bytes_limit: int) -> tuple[bytes, int]:
    from dashboard.services import archive as ex
    columns = ex.MEMBERS["transactions.csv"]
    header = ",".join(columns) + "\n"
    accounts = ",".join(ex.MEMBERS["accounts.csv"]) + "\n1,Checking,checking,USD,0.00,0\n"
    budget = bytes_limit - len(header) - len(accounts) - 4096
    rows = rows_limit - 1
    per_row = budget // rows
    out = io.StringIO()
    for i in range(rows):
        line = f"{i + 1},1,Checking,{1990 + i % 200}-{1 + i % 12:02d}-{1 + i % 28:02d},-{1 + i % 5000}.{i % 100:02d}," \
               f"expense,,,Payee {i} {'P' * 150},Description {i} {'D' * 200},"
        notes = "N" * max(0, per_row - len(line) - 4)
        out.write(f"{line}{notes},,\n")
    members = {name: ",".join(cols) + "\n" for name, cols in ex.MEMBERS.items()}
    members["accounts.csv"] = accounts
    members["transactions.csv"] = header + out.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps({"format": ex.FORMAT, "version": ex.VERSION}))
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue(), rows


def case_archive(data: bytes) -> dict:
    from dashboard.services import archive as ex
    rows = ex.MAX_ARCHIVE_ROWS - 1
    before = _rss_mb()
    start = time.perf_counter()
    archive = ex.read_archive(data)
    seconds = time.perf_counter() - start
    assert archive.count("transactions.csv") == rows
    return {"seconds": seconds, "before": before, "rows": rows, "bytes": len(data)}


def make_archive_bomb() -> bytes:
    from dashboard.services import archive as ex
    row = b"1,1,A,2024-01-01,-1.00,expense,,,p,,,,\n"
    # Just under the declared-size limit (so only the streaming bounds can stop it): 1.6M tiny rows.
    body = row * ((ex.MAX_ARCHIVE_UNCOMPRESSED - 64 * 1024) // len(row))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("manifest.json", json.dumps({"format": ex.FORMAT, "version": ex.VERSION}))
        for name, cols in ex.MEMBERS.items():
            archive.writestr(name, ",".join(cols).encode() + b"\n" + (body if name == "transactions.csv" else b""))
    return buffer.getvalue()


def case_archive_bomb(data: bytes) -> dict:
    from dashboard.services import archive as ex
    before = _rss_mb()
    start = time.perf_counter()
    try:
        ex.read_archive(data)
        refused = False
    except ex.ImportFileError:
        refused = True
    seconds = time.perf_counter() - start
    assert refused
    return {"seconds": seconds, "before": before, "rows": 0, "bytes": len(data), "refused": 1}


def _make_archive() -> bytes:
    from dashboard.services import archive as ex
    return make_archive(ex.MAX_ARCHIVE_ROWS, ex.MAX_ARCHIVE_UNCOMPRESSED)[0]


CASES = {"csv": (make_csv, case_csv), "csv_wide": (make_csv_wide, case_csv_wide),
         "ofx": (lambda: make_ofx()[0], case_ofx), "archive": (_make_archive, case_archive),
         "archive_bomb": (make_archive_bomb, case_archive_bomb)}


def make_one(name: str, path: str) -> None:
    with open(path, "wb") as out:
        out.write(CASES[name][0]())


def run_one(name: str, path: str) -> None:
    """Parse the file at ``path`` in this fresh process, measuring from after the imports."""
    import dashboard.services.archive  # noqa: F401  (the imports are not part of the measurement)
    import dashboard.services.importer  # noqa: F401
    with open(path, "rb") as f:
        data = f.read()
    cpu = time.process_time()
    result = CASES[name][1](data)
    result["cpu_seconds"] = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_mb"] = peak - result.pop("before")
    print(json.dumps(result))


def main(names: list[str]) -> None:
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in names or list(CASES):
        with tempfile.NamedTemporaryFile(suffix=f".{name}") as tmp:
            made = subprocess.run([sys.executable, __file__, "--make", name, tmp.name], capture_output=True,
                                  text=True, env=env)
            if made.returncode != 0:
                print(f"bench parsers.{name} FAILED to build\n{made.stderr[-2000:]}")
                continue
            out = subprocess.run([sys.executable, __file__, "--one", name, tmp.name], capture_output=True,
                                 text=True, env=env)
        if out.returncode != 0:
            print(f"bench parsers.{name} FAILED\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        extra = " refused=1" if r.get("refused") else ""
        print(f"bench parsers.{name} rows={r['rows']} file_mb={r['bytes'] / 1048576:.1f} "
              f"seconds={r['seconds']:.2f} cpu_seconds={r['cpu_seconds']:.2f} peak_mb={r['peak_mb']:.0f}{extra} "
              f"load={load}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        make_one(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:])
