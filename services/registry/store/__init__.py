"""Persistence of the registry, by sub-domain: keyword-only functions over a ``Session`` (the
caller owns the transaction, usually ``run_once``) that load rows, let ``domain`` decide, write
the outcome and raise DomainErrors. ``rows`` converts rows to domain objects."""
