"""Accounts and authentication: passwords and tokens, users and their devices, device
sign-in and its rate limit, bearer-token checks for the API and the console's sessions."""
