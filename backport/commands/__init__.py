"""One module per command: plain values in, an exit code out."""
