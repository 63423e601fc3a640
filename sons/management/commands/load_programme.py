"""Load the programme: waves VA1 and VA2, the wave-1 schemes with their real calendar and the
wave-2 demo schemes, each with a published requirement set. Idempotent: what exists is left as
it is (an admin may have moved a deadline since), what is missing is created through the
services, audited as actor "load_programme".

Where the values come from (all of them are data, editable afterwards):

- Wave 1 (real, domain.md §8): referencing opened 31 Aug 2021 (`submission_opens`, 00:00 Paris);
  GP-software (MDV-LGC-VA1) orders by 30 Nov 2022; pharmacy (OFF-LGO-VA1) orders by
  18 Dec 2022; installation by 20 Sep 2023 for all sectors; the scheme closed 14 Dec 2023
  (`payment_deadline`); pharmacy cap €625–875 by turnover tier: `price_cap` 875 (the top tier;
  lower tiers go in the eligible base as each pharmacy's `max_amount`).
- Wave 1, ours: submissions close 31 Oct 2022; hospital, radiology and biology orders by
  31 Dec 2022; caps DPI 90 000, RI 35 000, PFI 45 000, LGC 1 500, SIR 9 000, SGL 12 000 €.
- Wave 2 (demo, ours; submission windows open on 24 Nov 2026 so the demo is usable):
  hospital (DPI 150 000, PFI 60 000, RI 40 000 €): submissions 3 Mar 2025 → 31 Mar 2027,
  orders by 30 Jun 2027, installation by 29 Oct 2027; GP and pharmacy (LGC 2 500, LGO 1 200 €):
  2 Jun 2025 → 29 Jan 2027, orders by 31 Mar 2027, installation by 30 Sep 2027;
  radiology and biology (SIR 12 000, SGL 15 000 €): 1 Sep 2025 → 26 Feb 2027, orders by
  30 Apr 2027, installation by 29 Oct 2027; every wave-2 payment deadline 17 Dec 2027 12:00.
- Both waves, ours: acceptance VA (signed by the customer) for hospitals, radiology and biology,
  MOM (declared by the vendor) with tacit acceptance after 30 days for GP software and
  pharmacies; hospitals and pharmacies use an eligible base; advance 30 %, 15 days to answer a
  correction request, 120 days of pre-referencing (the model's defaults).
- Requirement sets: wave 2 gets the demo socle and the category's requirements
  (sons/fixtures/requirements_va2.json, about 40 per scheme); wave 1 the socle's mandatory INS,
  DMP and MSSanté requirements.
"""

from django.core.management.base import BaseCommand

from sons import programme, selectors, services
from sons.models import Category, Scheme, Wave

ACTOR = "load_programme"


class Command(BaseCommand):
    help = "Charge les vagues, dispositifs et référentiels du programme (idempotent)."

    def handle(self, *args, **options):
        created = {"waves": 0, "schemes": 0, "requirement_sets": 0}
        waves = {}
        for code, name in programme.WAVES:
            wave = Wave.objects.filter(code=code).first()
            if wave is None:
                wave = services.wave_create(actor=ACTOR, code=code, name=name)
                created["waves"] += 1
            waves[code] = wave
        categories = {c.code: c for c in Category.objects.select_related("sector")}
        for data in programme.SCHEMES:
            fields = dict(data)
            wave_code, category_code = fields.pop("wave"), fields.pop("category")
            scheme = Scheme.objects.filter(code=fields["code"]).first()
            if scheme is None:
                scheme = services.scheme_create(
                    actor=ACTOR,
                    wave=waves[wave_code],
                    category=categories[category_code],
                    **fields,
                )
                created["schemes"] += 1
            if selectors.requirement_set_current(scheme) is None:
                services.requirement_set_import(
                    actor=ACTOR,
                    scheme=scheme,
                    requirements=programme.requirements_for(wave_code, category_code),
                    notes="Référentiel de démonstration chargé par load_programme.",
                )
                services.requirement_set_publish(actor=ACTOR, scheme=scheme)
                created["requirement_sets"] += 1
        self.stdout.write(
            self.style.SUCCESS(
                "Programme chargé : {waves} vague(s), {schemes} dispositif(s), "
                "{requirement_sets} référentiel(s) publié(s) créés ; le reste existait déjà.".format(
                    **created
                )
            )
        )
