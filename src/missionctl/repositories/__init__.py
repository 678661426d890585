"""Query functions per aggregate. They take a session keyword-only and never commit."""
