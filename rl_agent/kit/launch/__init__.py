"""How a rendered script is started: the child process's environment and output (process.py), and the
`accelerate launch` command and config for several processes (accelerate.py). Below the tracks and the
pipeline, which both start scripts."""
