"""Identity in the registry process: sign-in providers and the links from external identities to
org users (``IdentityService``). Local accounts and the audit log live beside it."""
