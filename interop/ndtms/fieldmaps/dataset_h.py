"""NDTMS data set H: the column names the same exporter's H schema confirms ([C3] in
../shared/reference/ndtms-facts.md: client and episode, discharge, modality and TOP). H had no sub-intervention
review (it came with M, [S6]). Data set P's map marks a column "H" only when its name is here."""

COLUMNS = (
    "FINITIAL", "SINITIAL", "DOB", "SEX", "ETHNIC", "NATION", "REFLD", "AGNCY", "CLIENT", "CLIENTID", "EPISODID",
    "CONSENT", "PREVTR", "PC", "ACCMNEED", "PRNTSTAT", "DAT", "PCT", "LA", "GPPTCE", "DRUG1", "DRUG1AGE", "ROUTE",
    "DRUG2", "DRUG3", "RFLS", "TRIAGED", "CPLANDT", "INJSTAT", "CHILDWTH", "PREGNANT", "ALCDDAYS", "ALCUNITS",
    "DUALDIAG", "HEPCTSTD", "HEPCSTAT", "HEPCTD", "HEPBVAC", "HEPBSTAT", "PREVHEPB", "HEPCPOS", "REFHEPGY",
    "INJECT", "SHARE", "HLCASSDT", "TOPCC", "SEXUAL", "EMPSTAT",
    "DISD", "DISRSN", "DISDEST",
    "MODAL", "REFMODDT", "MODID", "FAOMODDT", "MODST", "MODEND", "MODEXIT", "OPRAGNCY",
    "TOPDATE", "TOPID", "TRSTAGE", "ALCUSE", "OPIUSE", "CRAUSE", "COCAUSE", "AMPHUSE", "CANNUSE", "OTDRGUSE",
    "IVDRGUSE", "SHARING", "SHOTHEFT", "DRGSELL", "OTHTHEFT", "ASSAULT", "PSYHSTAT", "PWORK", "EDUCAT", "ACUTHPBM",
    "HRISK", "PHSTAT", "QUALLIFE",
)  # fmt: skip
