"""Plumbing shared by the apps' admin modules (no business rules here).

- `CappedCountPaginator` and `LargeTableAdmin`: changelists of tables with millions of
  rows that never count the whole table.
- `OperationsAdmin`: staff operations (cancel, extend, refund...) as admin pages with a
  form and a reason. Each operation is one custom admin view, reached from a changelist
  action (with the selected rows) or from a button on the object's page; the view checks
  its own permission on GET and POST, and calls one service per object.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property

# The most rows an operation works on at once; more must be narrowed down first.
MAX_SELECTED = 100


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`), with no
    ORDER BY: the cost does not grow with the table. Beyond the cap the list says
    "più di N" and shows the first `cap` rows' pages; a search or a filter narrows it."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.count_is_capped = counted > self.cap
        return min(counted, self.cap)

    count_is_capped = False


# Nouns of the models' verbose names whose gender their ending does not tell.
_MASCULINE_IN_A = {"promemoria", "sistema", "problema"}
_FEMININE_OTHERS = {"nota"}


def with_article(noun: str) -> str:
    """`la casella PEC`, `l'ordine`, `il titolare`, `lo storico`: the definite article
    Italian puts before a model's verbose name (the admin's own text has none)."""
    first = noun.split()[0].lower() if noun.strip() else ""
    feminine = first in _FEMININE_OTHERS or (
        first not in _MASCULINE_IN_A and first.endswith(("a", "ione", "tà"))
    )
    if first[:1] in "aeiouàèéìòù" and first:
        return f"l'{noun}"
    if feminine:
        return f"la {noun}"
    starts_hard = first[:2] in ("gn", "ps", "pn") or first[:1] in "zxy"
    if starts_hard or (first[:1] == "s" and first[1:2] and first[1:2] not in "aeiou"):
        return f"lo {noun}"
    return f"il {noun}"


class ItalianTitlesAdmin(admin.ModelAdmin):
    """Changelist titles with the article and the right verb, "Seleziona la casella PEC da
    modificare", instead of the translation's "Seleziona casella PEC per visualizzarlo"."""

    def changelist_view(self, request, extra_context=None):
        verb = "modificare" if self.has_change_permission(request) else "visualizzare"
        title = f"Seleziona {with_article(str(self.opts.verbose_name))} da {verb}"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


class LargeTableAdmin(ItalianTitlesAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class ReadOnlyAdmin(LargeTableAdmin):
    """A history or a record kept as it was written: staff read it, nobody adds, edits or
    deletes a row from the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OperationForm(forms.Form):
    """The form of an operation; it knows the rows it works on and the request."""

    # Further forms shown under this one, as (title, form); validated by this form's clean.
    subforms: list[tuple[str, forms.Form]] = []

    def __init__(self, *args, objects=(), request=None, **kwargs):
        self.objects = list(objects)
        self.request = request
        super().__init__(*args, **kwargs)


class ReasonForm(OperationForm):
    """The reason every staff operation asks for; it is kept in the history."""

    reason = forms.CharField(
        label="Motivo",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Resta nello storico insieme al tuo nome utente.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Indica il motivo.")
        return reason


@dataclass(frozen=True)
class Operation:
    slug: str  # in the URL, Italian
    title: str  # the page's title and the button's label
    permission: str  # ModelAdmin.has_<permission>_permission(request)
    form_class: type[OperationForm] = ReasonForm
    many: bool = True  # may work on several selected rows at once
    submit: str = "Conferma"
    intro: str = ""


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(getattr(error, "message", None) or error)


class OperationsAdmin(ItalianTitlesAdmin):
    """A ModelAdmin with staff operations.

    Subclasses list `operations` and implement `perform_<slug>(request, obj, data)`,
    returning the message for staff, and `operation_applies(op, obj)` to hide a button
    that cannot apply to an object. Errors listed in `operation_errors` are shown to staff
    and leave the object as it was (each service runs in its own transaction).
    """

    operations: tuple[Operation, ...] = ()
    operation_errors: tuple[type[Exception], ...] = (ValidationError,)
    change_form_template = "admin/pecshop/change_form.html"

    def _operation(self, slug: str) -> Operation:
        for op in self.operations:
            if op.slug == slug:
                return op
        raise Http404("Operazione sconosciuta.")

    def has_operation_permission(self, request, op: Operation) -> bool:
        return getattr(self, f"has_{op.permission}_permission")(request)

    def operation_applies(self, op: Operation, obj) -> bool:
        return True

    def _url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def operation_url(self, slug: str, ids) -> str:
        url = reverse(f"admin:{self._url_name('operation')}", args=[slug])
        return f"{url}?ids={','.join(str(pk) for pk in ids)}"

    def get_urls(self):
        return [
            path(
                "operazioni/<slug:slug>/",
                self.admin_site.admin_view(self.operation_view),
                name=self._url_name("operation"),
            ),
            *super().get_urls(),
        ]

    def redirect_to_operation(self, request, queryset, slug: str):
        """The body of a changelist action: on to the operation's page with the rows."""
        op = self._operation(slug)
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_SELECTED + 1])
        if len(ids) > MAX_SELECTED:
            self.message_user(
                request,
                f"Seleziona al massimo {MAX_SELECTED} righe per volta.",
                messages.ERROR,
            )
            return None
        if not op.many and len(ids) != 1:
            self.message_user(request, f"«{op.title}»: seleziona una sola riga.", messages.ERROR)
            return None
        return HttpResponseRedirect(self.operation_url(slug, ids))

    @staticmethod
    def _ids(request) -> list[int]:
        raw = request.POST.get("ids") or request.GET.get("ids") or ""
        return [int(part) for part in raw.split(",") if part.strip().isdigit()][:MAX_SELECTED]

    def operation_view(self, request, slug: str):
        op = self._operation(slug)
        if not self.has_operation_permission(request, op):
            raise PermissionDenied
        ids = self._ids(request)
        objects = list(self.get_queryset(request).filter(pk__in=ids)) if ids else []
        changelist = reverse(f"admin:{self._url_name('changelist')}")
        if not objects:
            self.message_user(request, "Nessuna riga selezionata.", messages.WARNING)
            return HttpResponseRedirect(changelist)
        if not op.many and len(objects) > 1:
            self.message_user(request, f"«{op.title}»: una sola riga per volta.", messages.ERROR)
            return HttpResponseRedirect(changelist)
        form_kwargs = {"objects": objects, "request": request}
        if request.method == "POST":
            form = op.form_class(request.POST, **form_kwargs)
            if form.is_valid():
                perform = getattr(self, f"perform_{slug.replace('-', '_')}")
                for obj in objects:
                    try:
                        message, level = perform(request, obj, form.cleaned_data)
                    except self.operation_errors as error:
                        self.message_user(request, f"{obj}: {error_text(error)}", messages.ERROR)
                    else:
                        self.message_user(request, message, level)
                if len(objects) == 1:
                    return HttpResponseRedirect(
                        reverse(f"admin:{self._url_name('change')}", args=[objects[0].pk])
                    )
                return HttpResponseRedirect(changelist)
        else:
            form = op.form_class(**form_kwargs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": op.title,
            "operation": op,
            "objects": objects,
            "object_links": [
                (obj, reverse(f"admin:{self._url_name('change')}", args=[obj.pk]))
                for obj in objects
            ],
            "form": form,
            "ids": ",".join(str(obj.pk) for obj in objects),
            "cancel_url": (
                reverse(f"admin:{self._url_name('change')}", args=[objects[0].pk])
                if len(objects) == 1
                else changelist
            ),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/pecshop/operation.html", context)

    def object_operations(self, request, obj) -> list[tuple[str, str]]:
        """The buttons on an object's page: the operations this user may run on it."""
        return [
            (op.title, self.operation_url(op.slug, [obj.pk]))
            for op in self.operations
            if self.has_operation_permission(request, op) and self.operation_applies(op, obj)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context.setdefault("object_operations", self.object_operations(request, obj))
        return super().change_view(request, object_id, form_url, extra_context)


def shown(attr: str, label: str, *, fmt=None, ordering: str | None = None):
    """A read-only column or field with an Italian label, for models whose fields have no
    verbose name. `attr` may follow relations with `__` and name a method (called);
    `fmt` formats a value that is not empty."""

    def show(self, obj):
        value = obj
        for part in attr.split("__"):
            value = getattr(value, part, None) if value is not None else None
        if callable(value):
            value = value()
        if value is None or value == "":
            return "—"
        if fmt is not None:
            return fmt(value)
        if isinstance(value, bool):
            return "sì" if value else "no"
        if isinstance(value, datetime):
            return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, dict):
            return ", ".join(f"{key}: {item}" for key, item in value.items()) or "—"
        return value

    show.short_description = label
    if ordering:
        show.admin_order_field = ordering
    return show


def choices_filter(field: str, title: str, choices) -> type[admin.SimpleListFilter]:
    """A filter by the choices of `field` with an Italian title (the field has none); it
    reads the same parameter as Django's own (`<field>__exact`)."""

    class ChoicesFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            return list(choices)

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    ChoicesFilter.title = title
    ChoicesFilter.__name__ = f"{field.title()}Filter"
    return ChoicesFilter
