"""``/admin/customers``: the customer records, for admins (``webhooks.security`` holds every ``/admin/`` page)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from plugin.settings import LOCALES
from sync.ledger.customers import (
    InvalidCustomer,
    UnknownCustomer,
    add_customer,
    edit_customer,
    issue_status_token,
    link_needs,
    mask,
    masked_channel,
    merge_customers,
    need_counts,
    revoke_status_token,
    status_link,
    status_page_url,
    unlinked_customers,
)
from webhooks.context import customers, forget_customers, runtime

bp = Blueprint("admin", __name__, url_prefix="/admin")

CHANNEL_KINDS = ("email", "wecom", "dingtalk", "feishu", "slack", "webhook")
NEW_CHANNELS = 1
"""Empty channel rows the form offers for adding."""


@bp.get("/customers")
def customers_page():
    book = customers()
    with runtime().Session() as session:
        counts = need_counts(session)
    unlinked = unlinked_customers(counts, book)
    return render_template("admin/customers.html", records=book.active(), counts=counts, unlinked=unlinked)


def _form_data(current=None) -> dict:
    """The submitted fields as ``checked_fields`` takes them; fields the file sets are never sent."""
    form = request.form
    data: dict = {}
    if current is None:
        data["key"] = form.get("key", "").strip()
    data["name"] = form.get("name", "")
    data["aliases"] = form.get("aliases", "")
    data["locale"] = form.get("locale", "")
    data["tier"] = form.get("tier", "")
    data["annual_revenue"] = form.get("annual_revenue", "").strip().replace(",", "")
    contacts = []
    for line in form.get("contacts", "").splitlines():
        parts = [part.strip() for part in line.replace("，", ",").split(",")]
        if parts and parts[0]:
            contacts.append({"name": parts[0], **({"email": parts[1]} if len(parts) > 1 and parts[1] else {}),
                             **({"phone": parts[2]} if len(parts) > 2 and parts[2] else {})})
    data["contacts"] = contacts
    channels = []
    for number in range(int(form.get("channel_rows", "0") or 0)):
        prefix = f"channel-{number}-"
        if form.get(prefix + "remove"):
            continue
        kind = form.get(prefix + "kind", "")
        to = [item.strip() for item in form.get(prefix + "to", "").replace("，", ",").split(",") if item.strip()]
        url = form.get(prefix + "url", "").strip()
        secret = form.get(prefix + "secret", "").strip()
        index = form.get(prefix + "index", "")
        item: dict = {"kind": kind}
        if to:
            item["to"] = to
        old = current.channels[int(index)] if current and index.isdigit() and int(index) < len(current.channels) \
            else None
        # A masked value sent back unchanged keeps what is stored.
        if old is not None and (url == mask(old.url) or secret == "••••••"):
            item["index"] = int(index)
        if url and not (old is not None and url == mask(old.url)):
            item["url"] = url
        if secret and secret != "••••••":
            item["secret"] = secret
        if not index and not to and not url and not secret:
            continue  # an empty row for a new channel
        channels.append(item)
    data["channels"] = channels
    if current is not None:
        data = {name: value for name, value in data.items() if name not in current.config_fields}
    return data


def _form_page(record, errors=None, status=200):
    channels = [masked_channel(channel) | {"index": index} for index, channel in enumerate(record.channels)] \
        if record else []
    return render_template("admin/customer_form.html", record=record, errors=errors or {},
                           channels=channels, contacts_text="\n".join(
                               ", ".join(part or "" for part in (contact.name, contact.email, contact.phone)).rstrip(", ")
                               for contact in (record.contacts if record else ())),
                           new_channels=NEW_CHANNELS, kinds=CHANNEL_KINDS, locales=LOCALES,
                           form=request.form if request.method == "POST" else None,
                           link=status_page_url(runtime(), record.key) if record else None), status


@bp.route("/customers/new", methods=["GET", "POST"])
def new_customer():
    if request.method == "POST":
        try:
            added = add_customer(runtime(), _form_data())
        except InvalidCustomer as exc:
            return _form_page(None, exc.by_field(gettext), 400)
        forget_customers()
        flash(gettext("Customer %(name)s added (key %(key)s).", name=added.name, key=added.key), "success")
        return redirect(url_for("admin.customers_page"))
    return _form_page(None)


@bp.route("/customers/<key>", methods=["GET", "POST"])
def edit(key: str):
    record = customers().get(key)
    if record is None:
        abort(404)
    if request.method == "POST":
        try:
            record = edit_customer(runtime(), key, _form_data(record))
        except InvalidCustomer as exc:
            return _form_page(record, exc.by_field(gettext), 400)
        forget_customers()
        flash(gettext("Customer %(name)s saved.", name=record.name), "success")
        return redirect(url_for("admin.edit", key=key))
    return _form_page(record)


@bp.post("/customers/<key>/link")
def status_link_page(key: str):
    """A new status-page link (the earlier one stops working), or ``revoke`` to close it."""
    if customers().get(key) is None:
        abort(404)
    if request.form.get("revoke"):
        revoke_status_token(runtime(), key)
        flash(gettext("The status-page link is revoked."), "success")
    else:
        link = status_link(runtime().settings, issue_status_token(runtime(), key))
        flash(gettext("New status-page link: %(link)s", link=link), "success")
    return redirect(url_for("admin.edit", key=key))


@bp.post("/customers/relink")
def relink():
    """Needs naming a customer no record has now name the chosen customer."""
    text, key = request.form.get("text", ""), request.form.get("key", "")
    try:
        moved = link_needs(runtime(), [text], key, actor=current_user.name)
    except UnknownCustomer:
        flash(gettext("Choose a customer."), "error")
        return redirect(url_for("admin.customers_page"))
    flash(gettext("%(count)d needs now name %(name)s.", count=moved, name=customers().name(key)), "success")
    return redirect(url_for("admin.customers_page"))


@bp.route("/customers/merge", methods=["GET", "POST"])
def merge():
    """Merge one customer into another, after a confirmation page saying what moves."""
    book = customers()
    source, target = book.get(request.values.get("source")), book.get(request.values.get("target"))
    if source is None or target is None or source.key == target.key or source.merged_into or target.merged_into:
        flash(gettext("Choose two different customers."), "error")
        return redirect(url_for("admin.customers_page"))
    if request.method == "POST" and request.form.get("confirm"):
        needs, minutes = merge_customers(runtime(), source.key, target.key, actor=current_user.name)
        forget_customers()
        flash(gettext("%(source)s merged into %(target)s: %(needs)d needs and %(minutes)d minutes moved.",
                      source=source.name, target=target.name, needs=needs, minutes=minutes), "success")
        return redirect(url_for("admin.customers_page"))
    with runtime().Session() as session:
        count = need_counts(session).get(source.key, 0)
    return render_template("admin/merge.html", source=source, target=target, count=count)

