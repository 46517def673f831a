"""Registration spreadsheets people work with in Excel/WPS: the column and label vocabulary
(``columns``), typed workbook/CSV rendering (``render``), project exports (``projects``) and the
per-form import template (``template``). Pure: data in, bytes out; callers fetch over gRPC."""
