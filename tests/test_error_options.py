"""Errors of the model layer carry the options they name; each edge spells them its own way."""

import pytest

from model.batch import BatchInputError, choose_text_column, decoded_lines
from model.errors import command_line_spelling
from service.batch import query_parameter


def test_a_missing_text_column_names_the_option_for_each_edge():
    """The error names `text_column`; the CLI says --text-column, HTTP ?text_column=."""
    with pytest.raises(BatchInputError) as caught:
        choose_text_column(["id", "body"], None)
    assert ("text_column",) == caught.value.options
    assert caught.value.render(command_line_spelling).endswith("name the column with --text-column")
    assert caught.value.render(query_parameter).endswith("name the column with ?text_column=")


def test_undecodable_bytes_advise_the_encoding_option_for_each_edge():
    """The advice after a decoding error spells the option and its example per edge."""
    with pytest.raises(BatchInputError) as caught:
        list(decoded_lines([b"text\n", b"caf\xe9\n"]))
    assert ("encoding", "encoding") == caught.value.options
    assert str(caught.value).endswith("pass it with --encoding (e.g. --encoding cp1252)")
    assert caught.value.render(query_parameter).endswith(
        "pass it with ?encoding= (e.g. ?encoding=cp1252)"
    )
