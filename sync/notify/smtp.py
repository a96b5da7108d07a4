"""E-mail notices over SMTP: multipart/alternative (plain text + HTML), UTF-8, one connection per send.

SMTP reply codes decide retries: 4xx (and dropped connections, timeouts, refused connections) are worth
another try; 5xx, refused credentials and TLS problems need an admin and are not retried.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from plugin.settings import SmtpConfig as SmtpSettings  # the config's own model: checked once, by check-config
from sync.notify.base import NOTICE_ID_HEADER, ChannelError, DeliveryResult, NotificationChannel
from sync.notify.formats import Message

# SMTP line endings, and base64/quoted-printable bodies rather than raw 8-bit, which not every relay takes.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")


class EmailChannel(NotificationChannel):
    """Sends a message to ``to`` (one e-mail, every address in To) through the configured SMTP server.

    The Message-ID is derived from the delivery key, so a retried job sends the same Message-ID and mail
    clients show one message; ``X-Cocreate-Notice-Id`` carries the notice id for filters and support.
    """

    kind = "email"

    def __init__(self, to: Sequence[str], smtp: SmtpSettings):
        if not to:
            raise ChannelError("an email channel needs at least one address", retryable=False, channel=self.kind)
        self.to = tuple(to)
        self.smtp = smtp

    @property
    def target(self) -> str:
        return ", ".join(self.to)

    def _identity(self) -> str:
        return "\n".join(sorted(address.lower() for address in self.to))

    def build(self, message: Message) -> EmailMessage:
        """The e-mail for ``message``, ready for ``smtplib.send_message``."""
        mail = EmailMessage(policy=_POLICY)
        mail["Subject"] = message.subject
        mail["From"] = self.smtp.sender
        mail["To"] = ", ".join(self.to)
        if self.smtp.reply_to:
            mail["Reply-To"] = self.smtp.reply_to
        mail["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
        mail["Message-ID"] = f"<{self.delivery_key(message)}@{self.smtp.sender_domain}>"
        mail[NOTICE_ID_HEADER] = message.notice_id
        # RFC 3834: tells auto-responders (out-of-office) not to answer.
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        # After the body: set_content() drops Content-* headers it finds.
        mail["Content-Language"] = message.document.lang
        return mail

    def send(self, message: Message) -> DeliveryResult:
        mail = self.build(message)
        smtp = self.smtp
        try:
            refused = self._transmit(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _text in exc.recipients.values()}
            answers = "; ".join(
                f"{address}: {code} {_decode(text)}" for address, (code, text) in exc.recipients.items()
            )
            raise self._error(
                f"the mail server refused every recipient ({answers})",
                retryable=all(400 <= code < 500 for code in codes),
                code=min(codes) if codes else None,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(
                f"{smtp.host} does not offer {'STARTTLS' if smtp.security == 'starttls' else 'that command'}; "
                "check notifications.smtp.security",
                retryable=False,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(
                f"{smtp.host} refused the username or password: {exc.smtp_code} {_decode(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
                code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                f"{smtp.host} answered {exc.smtp_code} {_decode(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500 or exc.smtp_code < 0,
                code=exc.smtp_code,
            ) from exc
        except ssl.SSLError as exc:
            raise self._error(
                f"TLS with {smtp.host}:{smtp.port} failed ({exc.reason or exc}); check security, port and certificate",
                retryable=False,
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise self._error(f"{smtp.host} closed the connection: {exc}", retryable=True) from exc
        except smtplib.SMTPException as exc:
            raise self._error(f"sending through {smtp.host} failed: {exc}", retryable=False) from exc
        except TimeoutError as exc:
            raise self._error(
                f"{smtp.host}:{smtp.port} did not answer within {smtp.timeout:g} s", retryable=True
            ) from exc
        except OSError as exc:
            raise self._error(
                f"could not connect to {smtp.host}:{smtp.port}: {exc.strerror or exc}", retryable=True
            ) from exc
        return DeliveryResult(
            channel=self.kind,
            target=self.target,
            notice_id=message.notice_id,
            delivery_key=self.delivery_key(message),
            status=250,
            response="accepted",
            provider_id=mail["Message-ID"],
            refused=tuple(sorted(refused)),
        )

    def _transmit(self, mail: EmailMessage) -> dict:
        """Connect, secure, log in, send; return the recipients refused while others were accepted."""
        smtp = self.smtp
        context = ssl.create_default_context(cafile=smtp.ca_file)
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        try:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            return client.send_message(mail)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
