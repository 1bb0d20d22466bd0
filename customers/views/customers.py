"""The archive's screens: list, detail, create and edit, contacts, reveal, deletion requests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.approvals.models import ApprovalRequest
from crm.core.attachments import attachment_add
from crm.core.choices import cached_rows
from crm.core.inputs import as_pk
from crm.core.models import Attachment
from crm.core.paging import CountedPaginator
from crm.core.visibility import get_changeable_or_404, get_visible_or_404
from customers import services
from customers.filters import CustomerFilter
from customers.forms import (
    AttachmentForm,
    BulkActionForm,
    ContactForm,
    CustomerForm,
    DeleteRequestForm,
    ReassignForm,
    SavedViewForm,
)
from customers.history import timeline
from customers.models import Contact, Customer, CustomerTag, CustomField, SavedView
from customers.panels import get_panel, panel_keys

PAGE_SIZE = 25
# Shown above the fold; the rest of the filters open under "More filters".
PRIMARY_FILTERS = ("type", "status", "source", "owner")


def _list_queryset(request: HttpRequest) -> CustomerFilter:
    customers = (
        Customer.objects.visible_to(request.user)
        .select_related("owner", "category", "region", "source")
        .prefetch_related(
            Prefetch(
                "contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary"
            ),
            Prefetch("customertag_set", queryset=CustomerTag.objects.select_related("tag")),
        )
    )
    return CustomerFilter(request.GET, queryset=customers, user=request.user)


def _unfiltered(request: HttpRequest, customer_filter: CustomerFilter) -> bool:
    """No filter nor search narrows the list (an order or a page number does not)."""
    narrowing = (value for name, value in request.GET.items() if name not in {"page", "ordering"})
    return not any(narrowing) and customer_filter.form.is_valid()


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    customer_filter = _list_queryset(request)
    if _unfiltered(request, customer_filter):
        # Everything the user may see: counted from the owners' counts, not row by row.
        count = Customer.objects.count_visible_to(request.user)
        paginator: Paginator = CountedPaginator(customer_filter.qs, PAGE_SIZE, count)
    else:
        paginator = Paginator(customer_filter.qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "filter": customer_filter,
        "page_obj": page,
        "can_bulk": services.can_override_duplicates(request.user),
        "can_create": services.can_create_customers(request.user),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/customer_list.html#results", context)
    context["saved_views"] = SavedView.objects.filter(user=request.user)
    context["primary_filters"] = PRIMARY_FILTERS
    context["more_filters_used"] = any(
        value
        for name, value in request.GET.items()
        if name not in {*PRIMARY_FILTERS, "q", "page", "ordering"}
    )
    context["bulk_form"] = BulkActionForm(user=request.user) if context["can_bulk"] else None
    return render(request, "customers/customer_list.html", context)


@login_required
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, user=request.user)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, error[0])
        return redirect(request.POST.get("next") or "customers:list")
    data = form.cleaned_data
    count = services.customers_bulk_update(
        customers=list(data["customers"]),
        by=request.user,
        owner=data["owner"] if data["action"] == form.Action.REASSIGN else None,
        tag=data["tag"] if data["action"] == form.Action.TAG else None,
        level=data["level"] if data["action"] == form.Action.LEVEL else None,
    )
    messages.success(request, _("%(count)s customers updated.") % {"count": count})
    return redirect(request.POST.get("next") or "customers:list")


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if form.is_valid():
        SavedView.objects.update_or_create(
            user=request.user,
            name=form.cleaned_data["name"],
            defaults={"query": form.cleaned_data["query"]},
        )
        messages.success(request, _("The view has been saved."))
        return redirect(f"{reverse('customers:list')}?{form.cleaned_data['query']}")
    messages.error(request, _("Give the view a name."))
    return redirect("customers:list")


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_pk: int) -> HttpResponse:
    get_object_or_404(SavedView, pk=view_pk, user=request.user).delete()
    return redirect("customers:list")


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_visible_or_404(
        Customer.objects.select_related(
            "owner",
            "category",
            "industry__parent",
            "scale",
            "region",
            "province",
            "source",
            "level",
            "created_by",
        ).prefetch_related("contacts", "customertag_set__tag"),
        request.user,
        pk=pk,
    )
    context = {
        "customer": customer,
        "owner_line": customer.is_in_owner_line(request.user),
        "can_change": not request.user.visibility.read_only,
        "reassign_form": ReassignForm(user=request.user)
        if services.can_reassign(customer, request.user)
        else None,
        "attachments": Attachment.objects.for_object(customer),
        "attachment_form": AttachmentForm(),
        "timeline": timeline(customer),
        "pending_requests": ApprovalRequest.objects.pending()
        .filter(target_type__model="customer", target_id=customer.pk)
        .select_related("requester"),
        "panel_keys": panel_keys(),
        "inquiries": customer.inquiries.select_related("source")[:5],
        "custom_values": [
            (definition.display_label, customer.custom_data[definition.key])
            for definition in cached_rows(CustomField.objects.filter(is_active=True))
            if definition.key in customer.custom_data
        ],
    }
    return render(request, "customers/customer_detail.html", context)


@login_required
def customer_panel(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """One app's panel on the customer page, fetched by its slot after the page loads."""
    panel = get_panel(key)
    if panel is None:
        raise Http404
    customer = get_visible_or_404(Customer.objects.select_related("owner"), request.user, pk=pk)
    context = {"panel": panel.context(customer, request.user)}
    return render(request, panel.template_name, context)


def _duplicates_for(form: CustomerForm, user, exclude_pk=None):  # type: ignore[no-untyped-def]
    data = form.cleaned_data
    return services.find_duplicates(
        user=user,
        name=data.get("name", ""),
        phones=[data["contact_phone"]] if data.get("contact_phone") else [],
        emails=[data["contact_email"]] if data.get("contact_email") else [],
        exclude_pk=exclude_pk,
    )


def _stop_for_duplicates(form: CustomerForm, duplicates, user) -> bool:  # type: ignore[no-untyped-def]
    """True when the user must look at the matches first (or may not go on at all)."""
    if not duplicates:
        return False
    if form.cleaned_data.get("allow_duplicate") and services.can_override_duplicates(user):
        return False
    form.add_error(None, _("A customer with the same name, phone or email already exists."))
    return True


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    if not services.can_create_customers(request.user):
        raise PermissionDenied(_("Only sales staff can add customers."))
    form = CustomerForm(request.POST or None, user=request.user)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for(form, request.user)
        if not _stop_for_duplicates(form, duplicates, request.user):
            changes = form.model_changes()
            if not changes.get("owner"):
                changes.pop("owner")
            try:
                customer = services.customer_create(
                    by=request.user,
                    contacts=form.first_contact(),
                    tags=list(form.cleaned_data["tags"]),
                    **changes,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if Customer.objects.visible_to(request.user).filter(pk=customer.pk).exists():
                    messages.success(
                        request,
                        _("Customer %(number)s has been created.") % {"number": customer.number},
                    )
                    return redirect(customer)
                # Given to someone outside the creator's reach: its page would be a 404.
                owner = (
                    customer.owner.display_name if customer.owner else _("the to-be-assigned pool")
                )
                messages.success(
                    request,
                    _("Customer %(number)s has been created and given to %(owner)s.")
                    % {"number": customer.number, "owner": owner},
                )
                return redirect("customers:list")
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "can_override": services.can_override_duplicates(request.user),
        },
    )


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_changeable_or_404(Customer, request.user, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for(form, request.user, exclude_pk=customer.pk)
        if not _stop_for_duplicates(form, duplicates, request.user):
            # The form wrote its values onto the instance; start again from the saved row.
            customer.refresh_from_db()
            try:
                _customer, approval = services.customer_update(
                    customer=customer,
                    by=request.user,
                    changes=form.model_changes(),
                    tags=list(form.cleaned_data["tags"]),
                    reason=form.cleaned_data["change_reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if approval is not None:
                    messages.info(
                        request,
                        _("Key-field changes were sent to %(name)s for approval.")
                        % {"name": approval.approver.display_name},
                    )
                messages.success(request, _("The customer has been saved."))
                return redirect(customer)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "duplicates": duplicates,
            "can_override": services.can_override_duplicates(request.user),
            "needs_approval": services.needs_approval(request.user),
        },
    )


@login_required
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_changeable_or_404(Customer, request.user, pk=pk)
    form = DeleteRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            approval = services.customer_delete_request(
                customer=customer, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The deletion request was sent to %(name)s.")
                % {"name": approval.approver.display_name},
            )
            return redirect(customer)
    return render(request, "customers/customer_delete.html", {"customer": customer, "form": form})


@login_required
@require_POST
def customer_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager's manual override: a new owner, with a reason kept in the history."""
    customer = get_visible_or_404(Customer, request.user, pk=pk)
    if not services.can_reassign(customer, request.user):
        raise PermissionDenied
    form = ReassignForm(request.POST, user=request.user)
    if form.is_valid():
        services.customer_assign(
            customer=customer,
            owner=form.cleaned_data["owner"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("The customer has been reassigned."))
    else:
        messages.error(request, _("Choose the new owner and give a reason."))
    return redirect(customer)


@login_required
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows one masked value (address, or a contact's phone) and logs who saw it."""
    customer = get_visible_or_404(Customer, request.user, pk=pk)
    contact = None
    field = request.POST.get("field", "")
    if field == "phone":
        contact_pk = as_pk(request.POST.get("contact"))
        if contact_pk is None:
            raise Http404
        contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
    elif field != "address":
        return HttpResponseBadRequest(_("Choose the address or a contact's phone to reveal."))
    value = services.reveal(customer=customer, by=request.user, field=field, contact=contact)
    return render(request, "customers/customer_detail.html#revealed", {"value": value})


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_changeable_or_404(Customer, request.user, pk=pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        primary = data.pop("is_primary")
        try:
            _contact, approval = services.contact_create(
                customer=customer, by=request.user, make_primary=primary, **data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if approval is not None:
                messages.info(request, _("The change of primary contact awaits approval."))
            messages.success(request, _("The contact has been added."))
            return redirect(customer)
    return render(request, "customers/contact_form.html", {"customer": customer, "form": form})


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = get_changeable_or_404(Customer, request.user, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
    owner_line = customer.is_in_owner_line(request.user)
    form = ContactForm(request.POST or None, instance=contact)
    if not owner_line:
        # Outside the owner line the phone stays masked: it can be replaced, not read.
        form.initial["phone"] = ""
        form.fields["phone"].required = False
    if request.method == "POST" and form.is_valid():
        contact.refresh_from_db()
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not owner_line and not changes.get("phone"):
            changes.pop("phone", None)
        try:
            _contact, approval = services.contact_update(
                contact=contact, by=request.user, changes=changes
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if approval is not None:
                messages.info(request, _("The change of primary contact awaits approval."))
            messages.success(request, _("The contact has been saved."))
            return redirect(customer)
    return render(
        request,
        "customers/contact_form.html",
        {"customer": customer, "form": form, "contact": contact},
    )


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_changeable_or_404(Customer, request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        attachment_add(target=customer, upload=form.cleaned_data["file"], by=request.user)
        messages.success(request, _("The file has been attached."))
    else:
        for error in form.errors.get("file", []):
            messages.error(request, error)
    return redirect(customer)
