"""Printable documents (PDF, reportlab platypus): ``blocks`` holds the pieces every document is
made of (branded header, key/value table, record table, footer with page x / y and printed at/by);
each document module (``approval_form``: the 审批单) lays out its own data with them. Pure: the
caller passes the data, the branding and the print time; nothing here reads a clock or a service."""
