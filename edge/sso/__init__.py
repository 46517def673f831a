"""Enterprise sign-in providers: per type, the admin's configuration model and the flow that ends
in ``edge.signin.open_session``."""
