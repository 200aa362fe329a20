"""Rows that are written once and never changed or deleted (histories, issued invoices).

The database's own users can still UPDATE; this guards the application's paths (model
save and delete, hence the admin and every service).
"""

from django.db import models


class AppendOnlyModel(models.Model):
    edit_refused = "Questa riga non si modifica: la storia è in sola aggiunta."
    delete_refused = "Questa riga non si cancella: la storia è in sola aggiunta."

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(self.edit_refused)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(self.delete_refused)
