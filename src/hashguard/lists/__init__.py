"""List files: formats (readers and writers), rows and their checks."""
