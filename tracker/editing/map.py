"""The drawing maps of the staff forms: folium's Draw plugin on the GSI map, served locally.

The project form draws a project's shape; the restriction form draws two lines, the closed
or narrowed section and the detour. Each hands its shapes to a small script of its own
(project_editor.js, restriction_editor.js) that keeps them in step with the text boxes.
"""

import folium
from folium.elements import JSCSSMixin
from folium.plugins import Draw
from folium.template import Template

from tracker.core.translate import gettext as _
from tracker.maps.city_map import (
    BOUNDARY_STYLE,
    MAX_ZOOM,
    Shapes,
    UrlFor,
    add_base_layers,
    base_map,
    finish_controls,
    script_json,
)

# What can be drawn: points, lines and polygons (rectangles and circles are not geometries
# the projects table keeps). Self-crossing shapes are refused while drawing already.
DRAW_OPTIONS = {
    "polyline": {"shapeOptions": {"color": "#0b2e59", "weight": 5}},
    "polygon": {"allowIntersection": False, "showArea": False},
    "marker": True,
    "rectangle": False,
    "circle": False,
    "circlemarker": False,
}
EDIT_OPTIONS = {"poly": {"allowIntersection": False}}
# Restrictions are lines: the closed or narrowed section, and the way round.
LINE_DRAW_OPTIONS = {
    "polyline": {"shapeOptions": {"color": "#d7191c", "weight": 6}},
    "polygon": False,
    "marker": False,
    "rectangle": False,
    "circle": False,
    "circlemarker": False,
}


class _DrawWords(JSCSSMixin):
    # Leaflet.draw reads its words from L.drawLocal when its toolbar is built, so this comes
    # first; project_editor.js merges the translated words in.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        AsoEditor.useDrawWords({{ this.words_js }});
        {% endmacro %}
        """
    )

    def __init__(self, words: dict, js: list) -> None:
        super().__init__()
        self._name = "AsoDrawWords"
        self.words_js = script_json(words)
        self.default_js = js


def draw_words() -> dict:
    """Return Leaflet.draw's words (its L.drawLocal) in the reader's language."""
    cancel = {"title": _("描くのをやめる"), "text": _("やめる")}
    return {
        "draw": {
            "toolbar": {
                "actions": cancel,
                "finish": {"title": _("描き終える"), "text": _("完了")},
                "undo": {"title": _("最後に置いた点を消す"), "text": _("最後の点を消す")},
                "buttons": {
                    "polyline": _("線を描く"),
                    "polygon": _("面を描く"),
                    "rectangle": _("長方形を描く"),
                    "circle": _("円を描く"),
                    "marker": _("点を置く"),
                    "circlemarker": _("点を置く"),
                },
            },
            "handlers": {
                "circle": {
                    "tooltip": {"start": _("押したまま動かして円を描きます。")},
                    "radius": _("半径"),
                },
                "circlemarker": {"tooltip": {"start": _("地図を押すと点を置きます。")}},
                "marker": {"tooltip": {"start": _("地図を押すと点を置きます。")}},
                "polygon": {
                    "tooltip": {
                        "start": _("地図を押して面を描き始めます。"),
                        "cont": _("続けて押して面を描きます。"),
                        "end": _("最初の点を押すと面を閉じます。"),
                    }
                },
                "polyline": {
                    "error": _("線どうしは交差できません。"),
                    "tooltip": {
                        "start": _("地図を押して線を描き始めます。"),
                        "cont": _("続けて押して線を描きます。"),
                        "end": _("最後の点をもう一度押すと線を終えます。"),
                    },
                },
                "rectangle": {"tooltip": {"start": _("押したまま動かして長方形を描きます。")}},
                "simpleshape": {"tooltip": {"end": _("指を離すと描き終えます。")}},
            },
        },
        "edit": {
            "toolbar": {
                "actions": {
                    "save": {"title": _("変更を入力欄に反映する"), "text": _("反映")},
                    "cancel": {"title": _("編集をやめて元に戻す"), "text": _("やめる")},
                    "clearAll": {"title": _("図形をすべて消す"), "text": _("すべて消す")},
                },
                "buttons": {
                    "edit": _("図形を直す"),
                    "editDisabled": _("直す図形がありません"),
                    "remove": _("図形を消す"),
                    "removeDisabled": _("消す図形がありません"),
                },
            },
            "handlers": {
                "edit": {
                    "tooltip": {
                        "text": _("点や辺の印を動かして形を直します。"),
                        "subtext": _("「やめる」で元に戻せます。"),
                    }
                },
                "remove": {"tooltip": {"text": _("消す図形を押してください。")}},
            },
        },
    }


class _Editor(JSCSSMixin):
    # One call into the form's script: `script_object`.attach(map, drawnItems, options).
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.script_object }}.attach({{ this._parent.get_name() }},
            drawnItems_{{ this.draw.get_name() }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(self, draw: Draw, script_object: str, options: dict, js: list) -> None:
        super().__init__()
        self._name = script_object
        self.script_object = script_object
        self.draw = draw
        # Escaped for a <script> element; the geometry may come from pasted text.
        self.options_js = script_json(options)
        self.default_js = js


def _drawing_map(
    boundary: dict,
    vendor_url: UrlFor,
    static_url: UrlFor,
    *,
    draw_options: dict,
    edit_options: dict,
    fit_city: bool,
    project_editor_js: list,
    labels: dict | None,
) -> tuple[folium.Map, Draw]:
    """Return a form's map with the city outline and Draw's toolbar in the reader's language,
    all served locally; `project_editor_js` loads project_editor.js, which sets the words."""
    m = base_map("aso-map--editor", vendor_url, static_url, labels=labels)
    add_base_layers(m, labels)
    folium.LayerControl(collapsed=True).add_to(m)
    Shapes(boundary, BOUNDARY_STYLE, max_zoom=MAX_ZOOM, fit=fit_city).add_to(m)
    draw = Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options=draw_options,
        edit_options=edit_options,
    )
    # On the instance: the class default is a CDN, and pages here load nothing from outside.
    draw.default_js = [("leaflet_draw_js", vendor_url("leaflet-draw/dist/leaflet.draw.js"))]
    draw.default_css = [("leaflet_draw_css", vendor_url("leaflet-draw/dist/leaflet.draw.css"))]
    _DrawWords(draw_words(), js=project_editor_js).add_to(m)
    draw.add_to(m)
    return m, draw


def build_editor_map(
    *,
    boundary: dict,
    geometry: dict | None,
    repaired: dict | None,
    problem_at: tuple[float, float] | None = None,
    textarea_id: str,
    vendor_url: UrlFor,
    static_url: UrlFor,
    editor_js_url: str,
    labels: dict | None = None,
) -> folium.Map:
    """Build the project form's map: city outline, the shape being edited, and Draw's toolbar.

    `problem_at` (lon, lat) marks where a refused shape goes wrong.
    """
    editor_js = [("aso_project_editor", editor_js_url)]
    m, draw = _drawing_map(
        boundary,
        vendor_url,
        static_url,
        draw_options=DRAW_OPTIONS,
        edit_options=EDIT_OPTIONS,
        fit_city=True,
        project_editor_js=editor_js,
        labels=labels,
    )
    _Editor(
        draw,
        "AsoEditor",
        {
            "textarea": textarea_id,
            "geometry": geometry,
            "repaired": repaired,
            "problemAt": list(problem_at) if problem_at else None,
            "text": editor_words(),
        },
        js=editor_js,
    ).add_to(m)
    finish_controls(m, labels)
    return m


def editor_words() -> dict:
    """Return what project_editor.js says, in the reader's language."""
    return {
        "written": _("地図の図形を入力欄に反映しました。"),
        "none": _("図形がありません。"),
        "pasted": _("貼り付けた GeoJSON を地図に表示しました。"),
        "later": _("WKT などは保存するときに確認します。"),
        "repaired": _("修正した形を入力欄に入れました。確認して保存してください。"),
        "problem": _("問題のある箇所"),
    }


def build_restriction_map(
    *,
    boundary: dict,
    project_geometry: dict,
    section: dict | None,
    detour: dict | None,
    vendor_url: UrlFor,
    static_url: UrlFor,
    editor_js_url: str,
    project_editor_js_url: str,
    labels: dict | None = None,
) -> folium.Map:
    """Build the restriction form's map: the work, and the section and detour to draw."""
    project_editor_js = [("aso_project_editor", project_editor_js_url)]
    # The editor fits the view to the work and its lines, not to the whole city.
    m, draw = _drawing_map(
        boundary,
        vendor_url,
        static_url,
        draw_options=LINE_DRAW_OPTIONS,
        edit_options={"poly": False},
        fit_city=False,
        project_editor_js=project_editor_js,
        labels=labels,
    )
    _Editor(
        draw,
        "AsoRestrictionEditor",
        {
            "section": "section",
            "detour": "detour",
            "target": "draw-target",
            "project": project_geometry,
            "sectionGeometry": section,
            "detourGeometry": detour,
        },
        js=[*project_editor_js, ("aso_restriction_editor", editor_js_url)],
    ).add_to(m)
    finish_controls(m, labels)
    return m
