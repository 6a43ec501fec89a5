"""cchc's own files: safe all-or-nothing output folders, result documents, evaluation bundles."""
