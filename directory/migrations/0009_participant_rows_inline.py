"""Keep a participant's row, search vector included, in the table itself.

PostgreSQL moves the largest values of a row longer than about 2 kB (``toast_tuple_target``)
to a side table. A participant's row is about 2.3 kB, most of it search text, so half the
search vectors lived there: the search window (directory/search.py), which checks and
ranks the vector of every row it reads, then made about three extra page reads a row
(the common word "data" among 100,000 participants: 9,200 buffers, 11 ms; bloated by
earlier runs, 31,000 buffers, 50 ms). With the target at its maximum, a row under 8 kB
stays whole: 800 buffers, 2 ms. The table grows by what the side table held.

It applies to rows written from now on; ``VACUUM FULL directory_participant`` rewrites the
others (docs/deploy.md). PostgreSQL only; elsewhere the operation does nothing.
"""

from django.db import migrations

from ._postgres import on_postgres

SET = "ALTER TABLE directory_participant SET (toast_tuple_target = 8160)"
RESET = "ALTER TABLE directory_participant RESET (toast_tuple_target)"


class Migration(migrations.Migration):
    dependencies = [("directory", "0008_country_name_index")]

    operations = [migrations.RunPython(on_postgres(SET), on_postgres(RESET))]
