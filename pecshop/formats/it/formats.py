"""One date format everywhere, the back office included: 25/11/2026 and 25/11/2026 14:30
(Django's Italian defaults mix "25 novembre 2026" with "25/11/2026")."""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
