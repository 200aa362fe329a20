"""{% url %} remembers only what cannot change: every part of the key is in the template or
in the request's prefix, language and application."""

import pytest
from django.template import Context, Engine, Template, engines
from django.template.defaulttags import URLNode
from django.urls import NoReverseMatch, reverse, set_script_prefix

from pecshop.templatetags.known_urls import KnownURLNode


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def nodes(source: str) -> list:
    return engines["django"].from_string(source).template.nodelist


def test_a_url_written_whole_is_remembered_per_script_prefix():
    assert isinstance(nodes("{% url 'billing:cart' %}")[0], KnownURLNode)
    assert render("{% url 'billing:cart' %}") == reverse("billing:cart")
    try:
        set_script_prefix("/negozio/")
        assert render("{% url 'billing:cart' %}") == "/negozio/carrello/"
        assert render("{% url 'area:mailbox' 7 %}") == "/negozio/area-clienti/caselle/7/"
    finally:
        set_script_prefix("/")
    assert render("{% url 'billing:cart' %}") == "/carrello/"
    assert render("{% url 'area:mailbox' 7 %}") == "/area-clienti/caselle/7/"


def test_variables_filters_and_as_var_are_left_to_django():
    for source in (
        "{% url 'area:mailbox' pk %}",
        "{% url name %}",
        "{% url 'area:mailbox' pk|add:1 %}",
        "{% url 'billing:cart' as where %}",
    ):
        node = nodes(source)[0]
        assert type(node) is URLNode, source
    assert render("{% url 'area:mailbox' pk %}", pk=3) == "/area-clienti/caselle/3/"
    assert render("{% url 'area:mailbox' pk %}", pk=4) == "/area-clienti/caselle/4/"
    assert render("{% url 'billing:cart' as where %}[{{ where }}]") == "[/carrello/]"


def test_an_unknown_name_still_fails_as_with_django():
    with pytest.raises(NoReverseMatch):
        render("{% url 'nessuna:pagina' %}")


def test_the_tag_is_a_builtin_of_the_shops_templates_only():
    template = Template("{% url 'billing:cart' %}", engine=Engine(builtins=[]))
    assert type(template.nodelist[0]) is URLNode  # a bare engine keeps Django's own
    assert template.render(Context()) == "/carrello/"
