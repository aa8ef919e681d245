"""Shuup 3.1 pins Babel 2.5.3, whose locale lookup lists Babel's data directory (about 700 files) on every
call. Shuup's ``LanguageField`` checks some 600 languages when it is imported: about 2.5 seconds for every
process that loads Shuup. The demo, the tests and the benchmarks start many such processes, so their
settings cache that listing (it does not change while a process runs)."""
import functools


def cache_babel_locale_listing():
    from babel import localedata

    if not hasattr(localedata.locale_identifiers, "cache_info"):
        localedata.locale_identifiers = functools.lru_cache(maxsize=None)(localedata.locale_identifiers)
