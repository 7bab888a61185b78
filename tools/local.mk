# Developer tools, tornet, benchmarks.
