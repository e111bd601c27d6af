"""Avatar styles: the built-in TOML styles load, and a bad file names its file, key and line."""

import pytest

from avatar.errors import ConfigError
from avatar.styles import DEFAULT_STYLE, STYLES_DIR, Style, list_styles, load_style


def write(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_at_least_three_built_in_styles_with_descriptions():
    styles = list_styles()
    names = [name for name, _, _ in styles]
    assert {"friendly", "line", "contrast"} <= set(names)
    assert names[0] == DEFAULT_STYLE
    for name, path, description in styles:
        assert path.parent == STYLES_DIR and path.stem == name
        assert description and not description.startswith("(broken")


@pytest.mark.parametrize("name", ["friendly", "line", "contrast"])
def test_each_built_in_style_loads_by_name(name):
    style = load_style(name)
    assert isinstance(style, Style) and style.name == name


def test_no_name_gives_the_default_style():
    assert load_style(None).name == DEFAULT_STYLE


def test_the_contrast_style_is_black_yellow_and_bold():
    contrast, friendly = load_style("contrast"), load_style("friendly")
    assert contrast.colors.background == (0, 0, 0)
    assert contrast.colors.skin[0] > 240 and contrast.colors.skin[2] < 40
    assert contrast.lines.outline > friendly.lines.outline and contrast.lines.brow > friendly.lines.brow


def test_a_partial_style_file_by_path_takes_defaults(tmp_path):
    path = write(tmp_path, 'description = "mine"\n[colors]\nskin = [200, 180, 160]\n[gains]\nmouth_corner = 2\n')
    style = load_style(str(path))
    assert style.name == "mine" and style.description == "mine"
    assert style.colors.skin == (200, 180, 160)
    assert style.gains.mouth_corner == 2.0
    assert style.shape == Style().shape


def test_unknown_style_name_lists_the_available_ones():
    with pytest.raises(ConfigError) as e:
        load_style("frendly")
    msg = str(e.value)
    assert msg == 'avatar style "frendly": unknown (did you mean friendly?); built in: contrast, friendly, line, or give a path to a .toml file'


def test_missing_style_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.toml: file not found$"):
        load_style(str(tmp_path / "nope.toml"))


def test_invalid_toml_names_file_line_and_key(tmp_path):
    path = write(tmp_path, 'name = "x"\n[shape]\nface_fill = 0.8\neye_y = \n')
    with pytest.raises(ConfigError) as e:
        load_style(path)
    assert str(e.value) == f'{path}:4: not valid TOML: Invalid value (column 9 of "eye_y =")'


def test_unknown_key_names_file_key_line_and_the_closest_known_key(tmp_path):
    path = write(tmp_path, '[colors]\nskin = "#ffffff"\n\n[shape]\nface_fill = 0.8\neye_sise = 0.2\n')
    with pytest.raises(ConfigError) as e:
        load_style(path)
    assert str(e.value) == f"{path}:6: shape.eye_sise: unknown key (did you mean eye_whites?)"


def test_misspelled_key_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "[gains]\nmouth_corners = 1.0\n")
    with pytest.raises(ConfigError, match=r":2: gains.mouth_corners: unknown key \(did you mean mouth_corner\?\)$"):
        load_style(path)


def test_wrong_type_names_file_key_and_line(tmp_path):
    path = write(tmp_path, '[lines]\noutline = 0.03\nbrow = "thick"\n')
    with pytest.raises(ConfigError) as e:
        load_style(path)
    assert str(e.value) == f'{path}:3: lines.brow = "thick": expected a number from 0 to 0.2 (got a string)'


def test_boolean_is_not_a_number_and_number_is_not_a_boolean(tmp_path):
    with pytest.raises(ConfigError, match=r"shape.hair = 1: expected true or false \(got a whole number\)$"):
        load_style(write(tmp_path, "[shape]\nhair = 1\n"))
    with pytest.raises(ConfigError, match=r"gains.jaw = true: expected a number from 0 to 3 \(got a boolean\)$"):
        load_style(write(tmp_path, "[gains]\njaw = true\n"))


def test_bad_colour_and_out_of_range_values_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r':2: colors.iris = "blue": must be a colour: "#rrggbb" or \[r, g, b\] with 0-255 each$'):
        load_style(write(tmp_path, '[colors]\niris = "blue"\n'))
    with pytest.raises(ConfigError, match=r":3: shape.face_fill = 3: must be from 0.3 to 1$"):
        load_style(write(tmp_path, "[shape]\n# comment\nface_fill = 3\n"))


def test_unknown_section_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r":1: colours: unknown section \(did you mean colors\?\)$"):
        load_style(write(tmp_path, "[colours]\nskin = '#ffffff'\n"))


@pytest.mark.parametrize("name", ["x" * 300, "a\x00b", "a\nb", ""])
def test_a_style_name_that_is_no_file_name_is_unknown_in_one_line(name):
    if name == "":
        assert load_style(name).name == DEFAULT_STYLE
        return
    with pytest.raises(ConfigError) as error:
        load_style(name)
    message = str(error.value)
    assert "unknown" in message and "\n" not in message and "\x00" not in message and len(message) < 200
