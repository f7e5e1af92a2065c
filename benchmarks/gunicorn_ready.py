"""gunicorn config used by every benchmark server, the portal's and the hello app's alike.

It changes no setting: it only records, for each worker, that it has loaded the application
(a file named after the worker's pid in $BENCH_READY_DIR), so that measurements start once every
worker is up, and the fault benchmark can count the workers gunicorn restarted.
"""
import os


def post_worker_init(worker):
    directory = os.environ.get("BENCH_READY_DIR")
    if directory:
        with open(os.path.join(directory, str(worker.pid)), "w") as f:
            f.write("ready\n")
