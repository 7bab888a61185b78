# Manual pages (mdoc); linted by make check when mandoc is present.
