# gunicorn settings of `make serve` (scripts/serve.py gives the bind address,
# the number of workers and the timeout on the command line).
#
# The application is trytond's own WSGI app, trytond.application:app, loaded
# in each worker after the fork (no preload): trytond refuses to start with
# threads running after its pool is loaded, and each worker must open its own
# PostgreSQL connections and its own cache listener.
import os

wsgi_app = 'trytond.application:app'
preload_app = False
# Restart a worker after this many requests (memory held by caches and
# Python's allocator is given back), with jitter so they do not all restart
# together
max_requests = int(os.environ.get('MAX_REQUESTS', '2000'))
max_requests_jitter = max_requests // 10
graceful_timeout = 20
# Tryton logs through the root logger (TRYTOND_LOGGING_LEVEL); gunicorn logs
# its own events and errors to the terminal
accesslog = os.environ.get('ACCESS_LOG') or None
errorlog = '-'
# The address of the client as the load balancer saw it is given by
# X-Forwarded-For, which trytond reads itself ([web] num_proxies)
forwarded_allow_ips = os.environ.get('FORWARDED_ALLOW_IPS', '127.0.0.1')


def post_worker_init(worker):
    """With MONITORBIZZ_WORKER_HEADER=1 (tests only), each answer names the
    worker process that made it (X-Monitorbizz-Worker), so that a test can
    check that one worker reads what another wrote."""
    if os.environ.get('MONITORBIZZ_WORKER_HEADER') != '1':
        return
    app = worker.wsgi
    pid = str(os.getpid())

    def tagged(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(
                status, [*headers, ('X-Monitorbizz-Worker', pid)], exc_info)
        return app(environ, start)
    worker.wsgi = tagged
