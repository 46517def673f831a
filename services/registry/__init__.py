"""Registry service: customer projects, customers, form definitions and the org directory."""
