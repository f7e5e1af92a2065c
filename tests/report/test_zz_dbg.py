from .helpers import PRO
def test_dbg(reporter):
    reporter.fill("professional", until="professionnel")
    page = reporter.step_page("professionnel", dict(PRO, **{"facts-0-when": "2024-01-02", "facts-0-what": ""}))
    import re
    i = page.body.find('<main')
    print(page.body[i:i+3000])
