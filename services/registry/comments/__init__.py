"""Comment threads on projects with @mentions (CommentService, served by the registry process)."""
