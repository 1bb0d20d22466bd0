"""On Postgres, indexes of the names' characters and pairs of characters, for searches of one or
two characters (张, 华为) that the trigram indexes of 0005 cannot serve (crm.core.search).
Expression indexes on an immutable function of the column: the database keeps them, whoever
writes the rows."""

from django.db import migrations

from crm.core.migration_operations import RunSQLOnPostgres

# Characters, then pairs of adjacent characters: 华为科 -> {华,为,科,华为,为科}.
GRAMS = """
CREATE FUNCTION crm_grams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    characters text[] := string_to_array(value, NULL);
    grams text[] := characters;
BEGIN
    FOR i IN 1 .. cardinality(characters) - 1 LOOP
        grams := grams || (characters[i] || characters[i + 1]);
    END LOOP;
    RETURN grams;
END
$$
"""

GRAM_INDEXES = [
    # The expressions crm.core.search tests: UPPER(…) for icontains, the column for contains.
    ("customer_name_grams", 'customers_customer USING gin (crm_grams(UPPER("name")))'),
    ("contact_name_grams", 'customers_contact USING gin (crm_grams(UPPER("name")))'),
    # Pinyin is ASCII but for the rare character pypinyin does not know: the Latin letters are
    # tested row by row, and only the other rows are indexed (contains(…, mostly_ascii=True)).
    (
        "customer_pinyin_grams",
        'customers_customer USING gin (crm_grams("name_pinyin")) '
        "WHERE \"name_pinyin\"::text ~ '[^\\x01-\\x7f]'",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_search_indexes"),
    ]

    operations = [
        RunSQLOnPostgres(GRAMS, "DROP FUNCTION crm_grams(text)"),
        *[
            RunSQLOnPostgres(f"CREATE INDEX {name} ON {index}", f"DROP INDEX {name}")
            for name, index in GRAM_INDEXES
        ],
        # Statistics of the new expressions, so that the planner knows how rare a gram is.
        RunSQLOnPostgres("ANALYZE customers_customer, customers_contact", migrations.RunSQL.noop),
    ]
