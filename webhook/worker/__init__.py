"""The worker process (slots, housekeeping, run lifecycle) and `python -m webhook serve`."""
