"""The auditor's tools: replaying bundles and the archive of past rounds."""
