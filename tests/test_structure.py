"""The sync core's structure, read from the source (issue 14): one module writes sync-state rows, one
classification reads Mailchimp's error statuses, no private API of Django, Celery, mailchimp3 or Shuup, a
transport that knows no Shuup, and kinds that each satisfy the contract the drainer and the batch path call.

Each check is a function over source text, and each is also run on a planted violation: a check that
finds nothing there could not fail."""
import ast
import re
import types
from pathlib import Path

import pytest

import shoop_mailchimp
from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.sync import kinds
from shoop_mailchimp.sync.batch_phase import BatchPhase
from tests.test_import_graph import import_graph

PACKAGE = Path(shoop_mailchimp.__file__).parent


def package_sources(*, include_testing=False):
    """{path relative to the package ("sync/state.py"): source} of the package's modules, migrations left out
    (and the test emulator, unless asked)."""
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = set(path.relative_to(PACKAGE).parts)
        if "migrations" in parts or ("testing" in parts and not include_testing):
            continue
        sources[path.relative_to(PACKAGE).as_posix()] = path.read_text(encoding="utf-8")
    return sources


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def scopes(tree):
    """The module's own statements, then each function: each has its own names."""
    yield tree
    yield from (node for node in ast.walk(tree) if isinstance(node, FUNCTIONS))


def scope_nodes(scope):
    """The nodes of a scope: a function's, its inner functions' too (they see its names); the module's own, without
    its functions' (a name a function binds is not the module's)."""
    if not isinstance(scope, ast.Module):
        yield from ast.walk(scope)
        return
    todo = [node for node in scope.body if not isinstance(node, FUNCTIONS)]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, FUNCTIONS))


def chain_names(node):
    """The names along an expression chain, from its end to the name it starts from: ``held``, ``self`` of
    ``self.held[key].save``, ``SyncState`` of ``SyncState.objects.filter(x).first()``; the model also of
    ``models.SyncState`` and ``apps.get_model("shoop_mailchimp", "SyncState")``, and ``row`` of
    ``type(row).objects``."""
    while True:
        if isinstance(node, ast.Attribute):
            yield node.attr
            if node.attr == MODEL:
                return
            node = node.value
        elif isinstance(node, ast.Call):
            if any(isinstance(arg, ast.Constant) and arg.value == MODEL for arg in node.args):
                yield MODEL
                return
            if isinstance(node.func, ast.Name) and node.func.id == "type" and len(node.args) == 1:
                node = node.args[0]
            else:
                node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            if isinstance(node, ast.Name):
                yield node.id
            return


def reaches_rows(node, tainted):
    """Whether the expression is SyncState, its rows or querysets: it starts from a tainted name, reaches the model,
    or goes through an attribute named as rows are (``self.row``)."""
    names = list(chain_names(node))
    return bool(names) and (names[-1] in tainted or MODEL in names
                            or any(ROW_NAME.search(name) for name in names[:-1]))


def bound_names(target):
    """The names an assignment's target binds: ``a, *b`` binds a and b; ``self.held[key]`` binds no name."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(bound_names(element) for element in target.elts))
    if isinstance(target, ast.Starred):
        return bound_names(target.value)
    return set()


# One module writes SyncState ----------------------------------------------------------------------------------

MODEL = "SyncState"
WRITE_METHODS = {"save", "update", "create", "bulk_create", "bulk_update", "delete", "get_or_create",
                 "update_or_create", "refresh_from_db_and_save"}


#: The state module's names in other modules: what its functions hand out (``state.claim()``'s rows,
#: ``state.held_by(token)``'s queryset) are SyncState rows.
STATE_MODULE = "shoop_mailchimp.sync.state"
#: Parameters and attributes that hold SyncState rows by the package's naming: the kinds' hooks get ``row``
#: (``after_close(row, outcome, status, journal)``, ``before_close(row, outcome)``, ``plan(configuration, row,
#: context)``), ``load`` and the batch path ``rows``; a plan keeps ``self.row``, the drainer gets a ``held_row``.
ROW_NAME = re.compile(r"(^|_)rows?$")


def state_module_names(tree):
    """The names a module reaches sync/state.py by: ``state`` (how every module imports it) and the aliases and
    functions it imports from it."""
    names = {"state"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "shoop_mailchimp.sync":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "state"}
        elif isinstance(node, ast.ImportFrom) and node.module == STATE_MODULE:
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.asname for alias in node.names if alias.name == STATE_MODULE and alias.asname}
    return names


def row_parameters(scope):
    if isinstance(scope, ast.Module):
        return set()
    arguments = scope.args
    return {argument.arg for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            + [arguments.vararg, arguments.kwarg] if argument is not None and ROW_NAME.search(argument.arg)}


def sync_state_writes(source):
    """Line numbers of the module's writes to SyncState: a write method called on ``SyncState`` (also reached as
    ``models.SyncState``, ``type(row)``, ``apps.get_model(..., "SyncState")``), on what the state module hands out
    (``state.held_by(token)``, ``state.claim()``'s rows), on a parameter named as a row (``row``, ``rows``,
    ``held_row``), or on a name bound from any of these in the same scope (a queryset, a row, a loop over them), or
    a ``SyncState(...)`` made."""
    found = set()
    tree = ast.parse(source)
    handed_out = state_module_names(tree)
    for scope in scopes(tree):
        tainted = {MODEL} | handed_out | row_parameters(scope)
        # Twice: a name bound late in a loop may be used above its binding.
        for _pass in range(2):
            for node in scope_nodes(scope):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                    value = node.value
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if value is not None and reaches_rows(value, tainted):
                        for target in targets:
                            tainted |= bound_names(target)
                elif isinstance(node, (ast.For, ast.comprehension)):
                    if any(isinstance(inner, ast.Name) and inner.id in tainted for inner in ast.walk(node.iter)):
                        tainted |= bound_names(node.target)
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    if reaches_rows(node.context_expr, tainted):
                        tainted |= bound_names(node.optional_vars)
        for node in scope_nodes(scope):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id == MODEL:
                found.add(node.lineno)
            elif (isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS
                  and reaches_rows(node.func.value, tainted)):
                found.add(node.lineno)
    return sorted(found)


def test_only_the_state_module_writes_sync_state():
    sources = package_sources(include_testing=True)
    assert sync_state_writes(sources["sync/state.py"])  # the check sees the writes where they are
    writes = {path: sync_state_writes(source) for path, source in sources.items() if path != "sync/state.py"}
    assert {path: lines for path, lines in writes.items() if lines} == {}


@pytest.mark.parametrize("planted", [
    "SyncState.objects.filter(kind=k).update(status='pending')",
    "state.held_by(k).update(status='pending')",
    "(row,) = state.claim(k)\n    row.save()",
    "models.SyncState.objects.filter(kind=k).delete()",
    "apps.get_model('shoop_mailchimp', 'SyncState').objects.all().delete()",
    "self.row.attempts = 0\n    self.row.save()",
    "rows = SyncState.objects.filter(kind=k)\n    rows.delete()",
    "row = SyncState.objects.get(pk=1)\n    row.attempts = 0\n    row.save()",
    "for row in SyncState.objects.contacts():\n        row.save()",
    "SyncState.objects.bulk_create([SyncState(kind=k)])",
    "SyncState.objects.update_or_create(kind=k)",
])
def test_a_write_outside_the_state_module_is_found(planted):
    source = "def f(k):\n    x = set()\n    x.update([1])\n    %s\n" % planted
    assert sync_state_writes(source), planted
    assert not sync_state_writes("def f(ids):\n    ids.update(SyncState.objects.values_list('id'))\n")


@pytest.mark.parametrize("planted", [
    # a queryset the state module hands out (state.held_by is public, used by bulk.py)
    "def f(token):\n    state.held_by(token).update(status='pending')\n",
    # a row passed in, as every kind hook gets one (after_close(row, ...), before_close(row, ...))
    "def after_close(row, outcome, status, journal):\n    row.attempts = 0\n    row.save()\n",
    # the model reached through the row's class or apps
    "def f(row):\n    type(row).objects.filter(pk=row.pk).delete()\n",
])
def test_a_write_outside_the_state_module_through_a_handed_out_row_is_found(planted):
    """Review aud10: a kind's after_close that saves the row it is handed, or a module that updates
    ``state.held_by(token)``, wrote SyncState outside sync/state.py, and the check above, which found a write
    only on a name bound from ``SyncState`` in the same function, did not see it."""
    assert sync_state_writes(planted), planted


# One classification of Mailchimp's errors ---------------------------------------------------------------------

#: The modules that read an error's status, title or detail (and a batch operation's status): the rest ask them.
CLASSIFIERS = {"mailchimp/errors.py", "mailchimp/batches.py"}
#: Functions outside the classification allowed to read an error's fields (none: keep it so).
CLASSIFYING_ELSEWHERE = set()
ERROR_FIELDS = {"status", "title", "detail", "problem", "status_code"}
ERROR_NAME = re.compile(r"(^|_)(error|exc|err|e)$")
TEXT_TESTS = {"lower", "upper", "casefold", "startswith", "endswith", "find", "index"}


def error_readings(source):
    """[(line, function)] where the module reads an error's status, title or detail to decide something: in a
    comparison, a text test (``.lower()``, ``startswith``), or a batch result's ``status_code``."""
    found = set()

    def visit(node, function, handlers):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
            handlers = {inner.name for inner in ast.walk(node) if isinstance(inner, ast.ExceptHandler) and inner.name}

        def is_error_field(inner):
            return (isinstance(inner, ast.Attribute) and inner.attr in ERROR_FIELDS
                    and isinstance(inner.value, ast.Name)
                    and (inner.value.id in handlers or ERROR_NAME.search(inner.value.id)))

        if isinstance(node, ast.Constant) and node.value == "status_code":
            found.add((node.lineno, function))
        elif isinstance(node, ast.Compare) and any(is_error_field(inner) for inner in ast.walk(node)):
            found.add((node.lineno, function))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_TESTS
              and any(is_error_field(inner) for inner in ast.walk(node.func.value))):
            found.add((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function, handlers)

    tree = ast.parse(source)
    visit(tree, "", {node.name for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler) and node.name})
    return sorted(found)


def test_only_the_classification_modules_read_error_statuses():
    sources = package_sources()
    assert error_readings(sources["mailchimp/errors.py"])  # the check sees the readings where they are
    assert error_readings(sources["mailchimp/batches.py"])
    readings = {}
    for path, source in sources.items():
        if path in CLASSIFIERS:
            continue
        lines = [(line, name) for line, name in error_readings(source) if (path, name) not in CLASSIFYING_ELSEWHERE]
        if lines:
            readings[path] = lines
    assert readings == {}


@pytest.mark.parametrize("planted", [
    "return error.status == 400",
    "return 'already exists' in (error.detail or '').lower()",
    "return error.title.lower()",
    "return int(result.get('status_code') or 0) >= 400",
    "try:\n        pass\n    except Exception as problem_seen:\n        return problem_seen.status in (401, 403)",
])
def test_a_reading_outside_the_classification_is_found(planted):
    assert error_readings("def f(error, result):\n    %s\n" % planted), planted
    assert not error_readings("def f(error):\n    return 'refused: %s' % error.detail\n")


# No private API -------------------------------------------------------------------------------------------

PRIVATE_API = {
    "mailchimp3's private request": r"\._make_request\b",
    "Celery's proxy internals": r"_get_current_object\b",
    "Django's private on-commit list": r"\brun_on_commit\b",
    "django-parler's private meta": r"\b_parler_meta\b",
    "mailchimp3's private client calls": r"\bclient\._(get|post|put|patch|delete)\b",
    "a Shuup object's private data": r"\._data\b",
    "Django's private form cleaning": r"\._post_clean\b",
    "an instance's __dict__ (not self's)": r"(?<!\bself)\.__dict__\b",
}


def private_uses(source):
    return sorted({(line_number, what) for line_number, line in enumerate(source.splitlines(), 1)
                   for what, pattern in PRIVATE_API.items() if re.search(pattern, line)})


def test_no_private_api():
    uses = {path: found for path, source in package_sources(include_testing=True).items()
            if (found := private_uses(source))}
    assert uses == {}


@pytest.mark.parametrize("planted", [
    "client._make_request(**kwargs)", "celery.current_app._get_current_object()",
    "for _sp, func in connection.run_on_commit:", "Product._parler_meta.root_model", "client._get(url=x)",
    "basket._data", "form._post_clean()", "instance.__dict__.get('email')",
])
def test_a_private_api_use_is_found(planted):
    assert private_uses(planted), planted
    assert not private_uses("cache = self.__dict__.setdefault('_objects', {})")


# The transport knows no Shuup ---------------------------------------------------------------------------------


def shuup_importers(graph, sources, start):
    """Modules reachable from ``start`` in the import graph whose source imports Shuup (or Django's ORM)."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return sorted(name for name in seen if re.search(r"^\s*(from|import) (shuup|django\.db)\b",
                                                      sources.get(name, ""), re.MULTILINE))


def module_sources():
    return {"shoop_mailchimp." + path[:-3].replace("/", ".").replace(".__init__", ""): source
            for path, source in package_sources().items()}


@pytest.mark.parametrize("module", ["shoop_mailchimp.mailchimp.transport", "shoop_mailchimp.mailchimp.errors",
                                    "shoop_mailchimp.mailchimp.batches", "shoop_mailchimp.mailchimp.resources",
                                    "shoop_mailchimp.mailchimp.limits", "shoop_mailchimp.mailchimp.members"])
def test_the_transport_imports_nothing_from_shuup(module):
    graph, sources = import_graph(), module_sources()
    assert module in graph
    assert shuup_importers(graph, sources, module) == []


def test_a_transport_reaching_shuup_is_found():
    graph = {"t": {"m"}, "m": set()}
    assert shuup_importers(graph, {"t": "import json\n", "m": "from shuup.core.models import Shop\n"}, "t") == ["m"]


# Each kind satisfies the contract -----------------------------------------------------------------------------


def contract_problems(kind_module):
    """What the drainer or the batch path would miss in the kind module."""
    problems = [name for name in kinds.DRAINER_NEEDS if not hasattr(kind_module, name)]
    problems += ["%s is not callable" % name for name in ("log_target", "load", "plan")
                 if hasattr(kind_module, name) and not callable(getattr(kind_module, name))]
    if getattr(kind_module, "KIND", None) not in dict(SyncKind.CHOICES):
        problems.append("KIND is no SyncKind")
    elif callable(getattr(kind_module, "log_target", None)) and not isinstance(kind_module.log_target(1), dict):
        problems.append("log_target gives no dict")
    # A kind goes through batches when it has BATCH_PHASES (bulk reads them) or sends many due rows in bursts.
    if hasattr(kind_module, "BATCH_PHASES") or getattr(kind_module, "IN_BURSTS", False):
        problems += [name for name in kinds.BATCH_NEEDS if not hasattr(kind_module, name)]
        if hasattr(kind_module, "unsent_ids") and not callable(kind_module.unsent_ids):
            problems.append("unsent_ids is not callable")
        phases = getattr(kind_module, "BATCH_PHASES", None)
        if phases is None:
            pass  # named missing above
        elif not phases or not all(isinstance(phase, BatchPhase) and callable(phase.build) and callable(phase.read)
                                   for phase in phases):
            problems.append("BATCH_PHASES are no BatchPhase")
        elif not phases[0].plans:
            problems.append("the first phase does not plan")
    return problems


@pytest.mark.parametrize("kind_module", kinds.KINDS, ids=lambda module: module.KIND)
def test_each_registered_kind_satisfies_the_contract(kind_module):
    assert contract_problems(kind_module) == []
    assert kinds.BY_KIND[kind_module.KIND] is kind_module


def test_every_kind_is_registered_once():
    assert len(kinds.BY_KIND) == len(kinds.KINDS)
    assert set(kinds.BY_KIND) == set(dict(SyncKind.CHOICES))


def test_a_kind_breaking_the_contract_is_found():
    contact = kinds.BY_KIND[SyncKind.CONTACT]
    broken = types.SimpleNamespace(KIND=SyncKind.CONTACT, log_target=contact.log_target, load=contact.load,
                                   BATCH_PHASES=contact.BATCH_PHASES)
    assert contract_problems(broken) == ["ADMIN", "plan", "unsent_ids"]
    broken.ADMIN, broken.plan, broken.unsent_ids, broken.BATCH_PHASES = contact.ADMIN, "plan", contact.unsent_ids, (
        "members",)
    assert contract_problems(broken) == ["plan is not callable", "BATCH_PHASES are no BatchPhase"]
    bursting = types.SimpleNamespace(KIND=SyncKind.CONTACT, ADMIN=contact.ADMIN, log_target=contact.log_target,
                                     load=contact.load, plan=contact.plan, IN_BURSTS=True)
    assert contract_problems(bursting) == ["BATCH_PHASES", "unsent_ids"], "bursts go through batches"


# The sync core knows no kind -----------------------------------------------------------------------------------


def kind_mentions(source):
    """Where a module names a kind: imports one of ``sync/kinds``' modules, or names a ``SyncKind`` value or a Shuup
    model of one."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shoop_mailchimp.sync.kinds"):
            found.update("import %s" % alias.name for alias in node.names
                         if node.module != "shoop_mailchimp.sync.kinds" or alias.name in kinds.__dict__
                         and isinstance(getattr(kinds, alias.name), types.ModuleType))
            if node.module != "shoop_mailchimp.sync.kinds":
                found.add("import %s" % node.module)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "SyncKind":
            found.add("SyncKind.%s" % node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shuup"):
            found.update("shuup %s" % alias.name for alias in node.names)
    return sorted(found)


@pytest.mark.parametrize("module", ["sync/drainer.py", "sync/bursts.py", "sync/state.py", "sync/bulk.py",
                                    "sync/jobs.py"])
def test_the_sync_core_names_no_kind(module):
    """What goes first and what goes in bursts is each kind's declaration (``DEPENDS_ON``, ``IN_BURSTS``), and so is
    what "Sync existing", a store created again, a domain change and a reconciliation send (``SYNC_EXISTING``,
    ``FOR_NEW_STORE``, ``ON_DOMAIN_CHANGE``, ``ended_since_sent``). Review aud10: a new kind going through batches
    was never sent by "Sync existing" unless bulk.start() was edited (it listed contacts, products and orders, and
    promos apart), nor sent again to a re-created store unless state.requeue_for_new_store was, nor after a domain
    change unless jobs.py was; state.py held cart, contact and product rules (importing Shuup's Contact,
    ShopProduct and StoredBasket)."""
    assert kind_mentions(package_sources()[module]) == []


def test_the_admins_explanations_name_no_kind():
    """What the owner can do about a failed item, its label and link, and its kind's line in the status counts are
    the kind's ``ADMIN``: a new kind is named in the admin without editing it."""
    mentions = kind_mentions(package_sources()["admin_module/explanations.py"])
    assert [mention for mention in mentions if not mention.startswith("shuup ")] == []  # Shuup's date filter


def test_a_new_kind_is_sent_by_what_it_declares(monkeypatch):
    """The core's lists of kinds are the registry's declarations: a new kind's module joins them by itself."""
    assert kinds.synced_existing(kinds.IN_IMPORT) == (SyncKind.CONTACT, SyncKind.PRODUCT)
    assert kinds.synced_existing(kinds.IN_IMPORT, kinds.HISTORY) == (SyncKind.CONTACT, SyncKind.PRODUCT,
                                                                    SyncKind.ORDER)
    assert kinds.synced_existing(kinds.APART) == (SyncKind.PROMO,)
    gift = types.SimpleNamespace(KIND="gift card", SYNC_EXISTING=kinds.IN_IMPORT)
    monkeypatch.setattr(kinds, "KINDS", kinds.KINDS + (gift,))
    assert kinds.synced_existing(kinds.IN_IMPORT) == (SyncKind.CONTACT, SyncKind.PRODUCT, "gift card")


def test_a_drainer_naming_a_kind_is_found():
    assert kind_mentions("from shoop_mailchimp.sync.kinds import BY_KIND, contact\nfrom shuup.core.models import "
                         "Contact\nx = SyncKind.CONTACT\n") == ["SyncKind.CONTACT", "import contact", "shuup Contact"]


# Receivers' dispatch_uid constants --------------------------------------------------------------------------------


def dispatch_uids(sources):
    """{uid: [module, ...]} of every ``*_UID = "..."`` constant: Django keeps one receiver per uid and sender, so
    a second receiver under a uid already taken is dropped without a word."""
    found = {}
    for path, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                    and any(isinstance(target, ast.Name) and target.id.endswith("_UID") for target in node.targets)):
                found.setdefault(node.value.value, []).append(path)
    return found


def test_every_dispatch_uid_is_unique():
    """Found at a merge: two modules connected their Shop receivers as "shoop_mailchimp.shop_saving", so the
    domain receiver was silently dropped."""
    uids = dispatch_uids(package_sources())
    assert len(uids) > 40
    assert {uid: paths for uid, paths in uids.items() if len(paths) > 1} == {}


def test_a_dispatch_uid_taken_twice_is_found():
    planted = {"a.py": 'SAVED_UID = "shoop_mailchimp.saved"\n', "b.py": 'OTHER_UID = "shoop_mailchimp.saved"\n'}
    assert dispatch_uids(planted) == {"shoop_mailchimp.saved": ["a.py", "b.py"]}
