"Test tools: a real SMTP server on localhost collecting what Tryton sends"
import email
import socket

from aiosmtpd.controller import Controller


class SMTPSink:
    "Receives e-mails on 127.0.0.1; point [email] uri at `uri`"

    def __init__(self):
        self.messages = []
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        self.uri = f'smtp://127.0.0.1:{self.port}'
        self._controller = Controller(
            self, hostname='127.0.0.1', port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return '250 OK'

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
