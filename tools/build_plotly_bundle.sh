#!/bin/sh
# Rebuild assets/plotly-ledgerlens.min.js: plotly.js's core (scatter) plus only the trace types the pages
# draw (bar, pie, treemap, indicator, sankey, waterfall). Dash's dcc.Graph uses window.Plotly when a
# script has defined it and then never fetches its own full bundle (4.8 MB), so serving this one from
# assets/ is all it takes. Keep the version equal to `plotly.offline.get_plotlyjs_version()`.
# Needs node and npm (packages from the npm registry); run from the repository root.
set -eu
VERSION=${PLOTLY_JS_VERSION:-4.1.1}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund "plotly.js@$VERSION" esbuild >/dev/null
cat > entry.js <<'JS'
var Plotly = require('plotly.js/lib/core');
Plotly.register([
  require('plotly.js/lib/bar'),
  require('plotly.js/lib/pie'),
  require('plotly.js/lib/treemap'),
  require('plotly.js/lib/indicator'),
  require('plotly.js/lib/sankey'),
  require('plotly.js/lib/waterfall')
]);
window.Plotly = Plotly;
JS
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --platform=browser --target=es2018 \
  --define:global=window --outfile=plotly.min.js
cd - >/dev/null
cp "$WORK/plotly.min.js" assets/plotly-ledgerlens.min.js
echo "assets/plotly-ledgerlens.min.js: $(wc -c < assets/plotly-ledgerlens.min.js) bytes"
