"""Vocabularies shared across the clinical record."""

from django.db import models


class CoreDomain(models.TextChoices):
    """The four core assessment and care-planning domains (§2.10)."""

    DRUG_ALCOHOL_USE = "drug_alcohol_use", "Drug and alcohol use"
    HEALTH = "health", "Physical and psychological health"
    OFFENDING = "offending", "Criminal involvement and offending"
    SOCIAL_FUNCTIONING = "social_functioning", "Social functioning"


class Substance(models.TextChoices):
    HEROIN = "heroin", "Heroin / illicit opioids"
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    FENTANYL = "fentanyl", "Fentanyl and synthetic opioids"
    CRACK = "crack", "Crack cocaine"
    COCAINE = "cocaine", "Cocaine (powder)"
    AMPHETAMINES = "amphetamines", "Amphetamines"
    CANNABIS = "cannabis", "Cannabis"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    ALCOHOL = "alcohol", "Alcohol"
    KETAMINE = "ketamine", "Ketamine"
    SYNTHETIC_CANNABINOIDS = "synthetic_cannabinoids", "Synthetic cannabinoids"
    OTHER = "other", "Other"


OPIOID_SUBSTITUTES = (Substance.METHADONE, Substance.BUPRENORPHINE)
NON_PRESCRIBED_OPIOIDS = (Substance.HEROIN, Substance.FENTANYL)
