"""NDTMS data set K: the column names confirmed by one open-source exporter's K driver
(CloudDataService/Canary-NDTMS, application/libraries/Ndtms/drivers/Ndtms_k.php, [C2] in
../shared/reference/ndtms-facts.md), in its order. Data set P's map (dataset_p.py) marks a column "K" only when its
name is here; a test holds it to that. Young people's columns (YP...) are left out: this is the adult set."""

COLUMNS = (
    # client and episode
    "FINITIAL", "SINITIAL", "DOB", "SEX", "ETHNIC", "NATION", "REFLD", "AGNCY", "CLIENT", "CLIENTID", "EPISODID",
    "CONSENT", "PREVTR", "PC", "ACCMNEED", "PRNTSTAT", "DAT", "PCT", "LA", "GPPTCE", "DRUG1", "DRUG1AGE", "ROUTE",
    "DRUG2", "DRUG3", "RFLS", "TRIAGED", "CPLANDT", "INJSTAT", "CHILDWTH", "PREGNANT", "ALCDDAYS", "ALCUNITS",
    "DUALDIAG", "HEPCTSTD", "HEPCSTAT", "HEPCTD", "HEPBVAC", "HEPBSTAT", "HLCASSDT", "TOPCC",
    # discharge
    "DISD", "DISRSN", "DISDEST",
    # intervention (modality)
    "MODAL", "REFMODDT", "MODSET", "MODID", "FAOMODDT", "MODST", "MODEND", "MODEXIT",
    # sub-intervention review
    "SUBMODDT", "SUBMID",
    "PHSTBL", "PHWTH", "PHMAIN", "PHRELPR",
    "PSYMOTI", "PSYCNMG", "PSYFSNI", "PSYCGBH", "PSYMNTH", "PSYDNMC", "PSYSTP", "PSYCOUN", "PSYOTHR",
    "RECPEER", "RECMAID", "RECFMSP", "RECPRNT", "RECHSE", "RECEMP", "RECEDUT", "RECWPRJ", "RECCHKP", "RECRLPP",
    "RECCMPT", "RECGNH", "RECOTH",
    # time in treatment
    "TITDATE", "TITREAT", "TITID",
    # TOP
    "TOPDATE", "TOPID", "TRSTAGE", "ALCUSE", "OPIUSE", "CRAUSE", "COCAUSE", "AMPHUSE", "CANNUSE", "OTDRGUSE",
    "IVDRGUSE", "SHARING", "SHOTHEFT", "DRGSELL", "OTHTHEFT", "ASSAULT", "PSYHSTAT", "PWORK", "EDUCAT", "ACUTHPBM",
    "HRISK", "PHSTAT", "QUALLIFE",
    # the rest of the K driver's list
    "INJECT", "SHARE", "PREVHEPB", "HEPCPOS", "REFHEPGY", "SEXUAL", "EMPSTAT", "OPRAGNCY",
)  # fmt: skip

# Without consent only these keep their values; every other column is blank (the K driver's whitelist, [C2]).
WITHOUT_CONSENT = ("AGNCY", "CLIENTID", "CONSENT")
