"""Scheduled jobs: each idempotent, locked against a second run, recorded in job_runs."""
