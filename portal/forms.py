"""Forms of the portal: they parse and validate input; the services decide."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from dsfr.forms import DsfrBaseForm

from accounts.models import Role, User
from core.timeutils import to_paris
from orders.models import Establishment
from payments.eligibility import REASON_CODES, REASON_LABELS
from payments.models import PaymentKind
from referencing_app.models import Claim, Evidence, VerdictValue
from sons.models import Category, Scheme, Wave
from vendors.models import SolutionVersion

MAX_REASON = 2000


class PortalForm(DsfrBaseForm):
    """DSFR rendering; optional fields are marked (the DSFR's current advice)."""

    def get_context(self):
        context = forms.Form.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


# --- public -----------------------------------------------------------------------------------
class CatalogueFilterForm(PortalForm):
    q = forms.CharField(
        label="Recherche",
        required=False,
        max_length=200,
        help_text="Nom du logiciel, de l'éditeur ou numéro de référencement",
    )
    category = forms.ChoiceField(label="Type de logiciel", required=False)
    wave = forms.ChoiceField(label="Vague", required=False)
    scheme = forms.ChoiceField(label="Dispositif", required=False)
    vendor = forms.CharField(
        label="Éditeur", required=False, max_length=200, help_text="Nom ou SIREN"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Tous")] + [
            (c.code, f"{c.code} — {c.name}") for c in Category.objects.order_by("code")
        ]
        self.fields["wave"].choices = [("", "Toutes")] + [
            (w.code, f"{w.code} — {w.name}") for w in Wave.objects.order_by("code")
        ]
        self.fields["scheme"].choices = [("", "Tous")] + [
            (code, code) for code in Scheme.objects.order_by("code").values_list("code", flat=True)
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: (v or "").replace("\x00", "").strip() for k, v in self.cleaned_data.items()}


# --- vendor: solutions and dossiers --------------------------------------------------------------
class SolutionCreateForm(PortalForm):
    name = forms.CharField(label="Nom du logiciel", max_length=300)
    category = forms.ModelChoiceField(
        label="Type de logiciel", queryset=Category.objects.order_by("code"), empty_label=None
    )


class VersionCreateForm(PortalForm):
    number = forms.CharField(label="Numéro de version", max_length=50)
    released_on = forms.DateField(
        label="Date de publication",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class DossierCreateForm(PortalForm):
    scheme = forms.ModelChoiceField(label="Dispositif", queryset=Scheme.objects.none())
    solution_version = forms.ModelChoiceField(
        label="Version du logiciel", queryset=SolutionVersion.objects.none()
    )
    charter_accepted = forms.BooleanField(
        label="J'accepte la charte du référencement, en tant que représentant légal de l'éditeur",
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = (
            Scheme.objects.filter(requirement_sets__published_at__isnull=False)
            .select_related("category")
            .distinct()
            .order_by("code")
        )
        self.fields["solution_version"].queryset = (
            SolutionVersion.objects.filter(solution__vendor_id=user.vendor_id)
            .select_related("solution")
            .order_by("solution__name", "-created_at")
        )
        if not user.signatory:
            self.fields["charter_accepted"].disabled = True
            self.fields[
                "charter_accepted"
            ].help_text = "Réservé au représentant légal (signataire) de l'éditeur."


class DossierSettingsForm(PortalForm):
    claimed_profiles = forms.MultipleChoiceField(
        label="Profils revendiqués",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les exigences d'un profil ne s'appliquent que s'il est revendiqué.",
    )
    charter_accepted = forms.BooleanField(
        label="La charte du référencement est acceptée par le représentant légal",
        required=False,
    )

    def __init__(self, *args, profiles: list[str], signatory: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claimed_profiles"].choices = [(p, p) for p in profiles]
        if not profiles:
            del self.fields["claimed_profiles"]
        if not signatory:
            self.fields["charter_accepted"].disabled = True
            self.fields[
                "charter_accepted"
            ].help_text = (
                "Seul le représentant légal (signataire) de l'éditeur peut accepter la charte."
            )


class EvidenceMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Evidence) -> str:
        at = to_paris(obj.created_at)
        return f"{obj.filename} — déposé le {at:%d/%m/%Y à %H:%M}"


class StatementForm(PortalForm):
    claim = forms.ChoiceField(
        label="Déclaration", choices=Claim.choices, widget=forms.RadioSelect, initial="conform"
    )
    justification = forms.CharField(
        label="Justification",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Obligatoire si l'exigence ne s'applique pas.",
    )
    evidence = EvidenceMultipleChoiceField(
        label="Preuves jointes",
        queryset=Evidence.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, evidence_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = evidence_qs


class EvidenceUploadForm(PortalForm):
    file = forms.FileField(
        label="Fichier de preuve",
        help_text="PDF, image, archive ZIP ou texte ; la taille maximale dépend du dispositif.",
    )


class ReasonForm(PortalForm):
    reason = forms.CharField(
        label="Motif", max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalReasonForm(PortalForm):
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CommentForm(PortalForm):
    body = forms.CharField(
        label="Message", max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    requirement_code = forms.ChoiceField(label="Exigence concernée", required=False)
    internal = forms.BooleanField(
        label="Note interne ANS (jamais montrée à l'éditeur)", required=False
    )

    def __init__(self, *args, codes: list[str], ans: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirement_code"].choices = [("", "Le dossier en général")] + [
            (c, c) for c in codes
        ]
        if not ans:
            del self.fields["internal"]


# --- review and decisions -----------------------------------------------------------------------
class VerdictForm(PortalForm):
    verdict = forms.ChoiceField(
        label="Avis", choices=VerdictValue.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Commentaire",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour un avis non conforme.",
    )


class RequestChangesForm(PortalForm):
    requirements = forms.MultipleChoiceField(
        label="Exigences à corriger",
        widget=forms.CheckboxSelectMultiple,
        help_text="Seules les exigences jugées non conformes, avec un commentaire, peuvent être retenues.",
    )
    reason = forms.CharField(
        label="Motif de la demande",
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirements"].choices = [(c, c) for c in codes]


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.get_full_name() or obj.username} ({obj.get_role_display()})"


class AssignForm(PortalForm):
    reviewer = ReviewerChoiceField(label="Instructeur", queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.REVIEWER, Role.ANS_ADMIN]
        ).order_by("role", "last_name", "username")


# --- orders ---------------------------------------------------------------------------------------
class OrderCreateForm(PortalForm):
    establishment = forms.CharField(
        label="Établissement (FINESS ou RPPS)",
        max_length=14,
        help_text="Le FINESS (9 caractères) de l'établissement, ou le RPPS (11 chiffres) du cabinet.",
    )
    scheme = forms.ModelChoiceField(label="Dispositif", queryset=Scheme.objects.order_by("code"))
    solution_version = forms.ModelChoiceField(
        label="Version commandée", queryset=SolutionVersion.objects.none()
    )
    amount = forms.DecimalField(
        label="Montant (€ HT)", min_value=0, max_digits=12, decimal_places=2
    )

    def __init__(self, *args, user: User, establishments, **kwargs):
        super().__init__(*args, **kwargs)
        self._establishments = establishments
        self.fields["solution_version"].queryset = (
            SolutionVersion.objects.filter(solution__vendor_id=user.vendor_id)
            .select_related("solution")
            .order_by("solution__name", "-created_at")
        )

    def clean_establishment(self) -> Establishment:
        value = self.cleaned_data["establishment"].strip().upper()
        found = self._establishments.filter(Q(finess=value) | Q(rpps=value)).first()
        if not value or found is None:
            raise forms.ValidationError("Aucun établissement connu sous cet identifiant.")
        return found


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SolutionVersion) -> str:
        return f"{obj.solution.name} {obj.number}"


class DeclareInstallationForm(PortalForm):
    installed_on = forms.DateField(
        label="Date d'installation",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    version = VersionChoiceField(label="Version installée", queryset=SolutionVersion.objects.none())
    report = forms.ModelChoiceField(
        label="Procès-verbal d'installation (VA ou MOM)",
        queryset=Evidence.objects.none(),
        help_text="Déposez d'abord le fichier avec le formulaire « Déposer le procès-verbal ».",
    )

    def __init__(self, *args, versions, reports, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = versions
        self.fields["report"].queryset = reports


class ReserveForm(PortalForm):
    reservations = forms.CharField(
        label="Réserves",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Une réserve par ligne.",
    )

    def lines(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["reservations"].splitlines() if line.strip()
        ]


# --- payments -------------------------------------------------------------------------------------
class MarkPaidForm(PortalForm):
    payment_reference = forms.CharField(label="Référence du virement", max_length=100)


class RecoveredForm(PortalForm):
    payment_reference = forms.CharField(label="Référence du remboursement", max_length=100)


class PaymentQueueFilterForm(PortalForm):
    # the queue shows the balance unless told otherwise: the unfiltered form says so
    kind = forms.ChoiceField(
        label="Nature", choices=PaymentKind.choices, required=False, initial=PaymentKind.BALANCE
    )
    scheme = forms.ChoiceField(label="Dispositif", required=False)
    eligible = forms.ChoiceField(
        label="Éligibilité",
        required=False,
        choices=[("", "Toutes"), ("true", "Éligibles"), ("false", "Non éligibles")],
    )
    reason = forms.ChoiceField(
        label="Motif",
        required=False,
        choices=[("", "Tous")] + [(c, REASON_LABELS[c]) for c in REASON_CODES],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = [("", "Tous")] + [
            (code, code) for code in Scheme.objects.order_by("code").values_list("code", flat=True)
        ]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        eligible = {"true": True, "false": False}.get(data.get("eligible") or "")
        return {
            "scheme": data.get("scheme") or "",
            "kind": data.get("kind") or PaymentKind.BALANCE,
            "eligible": eligible,
            "reason": data.get("reason") or "",
        }


class EligibilityRunForm(PortalForm):
    schemes = forms.MultipleChoiceField(
        label="Dispositifs",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucun coché : tous les dispositifs.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schemes"].choices = [
            (code, code) for code in Scheme.objects.order_by("code").values_list("code", flat=True)
        ]


class ImportForm(PortalForm):
    file = forms.FileField(
        label="Fichier CSV",
        help_text="Colonnes finess;rpps;name;kind;siret, séparées par des points-virgules (UTF-8).",
    )
