"""The demo user's login (the loader is dashboard/demo.py; the login page hints at this account)."""
DEMO_EMAIL = "demo@ledgerlens.local"
DEMO_PASSWORD = "demo-password"
DEMO_NAME = "Jordan Rivera"
