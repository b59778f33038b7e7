"""Local mode: CLI, emulator glue and stand-ins for the cloud services. Never shipped to Lambda."""
