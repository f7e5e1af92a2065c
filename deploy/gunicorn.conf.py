"""Production gunicorn configuration of the portal: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Why these values (see deploy/README.md):
- gthread workers: a client that sends its request slowly holds one thread, not a whole worker; a
  connection that has not sent anything yet waits in the worker's poller, not in a thread. With the
  default 3 workers x 16 threads, 48 requests are served at once; behind the nginx configuration of this
  directory (which reads whole requests before passing them on) slow clients never reach gunicorn at all.
- bounded timeouts: a request stuck for `timeout` seconds gets its worker restarted; the database and
  Redis time out long before (DATABASE_STATEMENT_TIMEOUT, DATABASE_CONNECT_TIMEOUT: a few seconds).
- no access log: it would hold client addresses (the reverse proxy keeps its own, without them).

Every value can be overridden from the environment (GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_BIND,
GUNICORN_TIMEOUT) or on the command line.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 16))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))    # a worker silent this long is restarted
graceful_timeout = 20                                      # time for requests in flight at a restart
keepalive = 5                                              # idle keep-alive connections are closed after 5 s
backlog = 512
max_requests = 5000                                        # workers are renewed now and then...
max_requests_jitter = 500                                  # ...not all at once
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None
errorlog = "-"
loglevel = "info"
forwarded_allow_ips = "127.0.0.1"    # the reverse proxy; the portal itself reads X-Forwarded-For only
                                     # with TRUSTED_PROXIES set
