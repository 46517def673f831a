"""Local accounts of org users in the registry process (``AccountService``): passwords (argon2id),
lockout with back-off, TOTP, single-use invite / reset links, and the sign-in settings."""
