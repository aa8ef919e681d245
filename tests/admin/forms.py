"""Read a rendered form's current values, as a browser would submit them (no BeautifulSoup here)."""
from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields = {}
        self.select = None
        self.option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.setdefault(name, []).append(attrs.get("value") or "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = [attrs.get("value") or ""]
        elif tag == "select" and name and "disabled" not in attrs:
            self.select = name
            self.multiple = "multiple" in attrs
            self.first_option = None
            self.fields[name] = []
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in attrs:
                self.fields[self.select].append(value)
        elif tag == "textarea" and name and "disabled" not in attrs:
            self.textarea = name
            self.fields[name] = [""]

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if not self.fields[self.select] and self.first_option is not None and not self.multiple:
                self.fields[self.select] = [self.first_option]
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_values(html, form_id):
    reader = _FormReader(form_id)
    reader.feed(html)
    return {name: values if len(values) != 1 else values[0] for name, values in reader.fields.items() if values}
