"""The drawing maps of the staff forms: folium's Draw plugin on the GSI map, served locally.

The project form draws a project's shape; the restriction form draws two lines, the closed
or narrowed section and the detour. Each hands its shapes to a small script of its own
(project_editor.js, restriction_editor.js) that keeps them in step with the text boxes.
"""

import folium
from folium.elements import JSCSSMixin
from folium.plugins import Draw
from folium.template import Template

from tracker.maps.city_map import (
    BOUNDARY_STYLE,
    MAX_ZOOM,
    Shapes,
    UrlFor,
    add_base_layers,
    base_map,
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

    def __init__(self, draw: Draw, script_object: str, options: dict, js: list):
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
) -> tuple[folium.Map, Draw]:
    """Return a form's map with the city outline and Draw's toolbar, all served locally."""
    m = base_map("aso-map--editor", vendor_url, static_url)
    add_base_layers(m)
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
    draw.add_to(m)
    return m, draw


def build_editor_map(
    *,
    boundary: dict,
    geometry: dict | None,
    repaired: dict | None,
    textarea_id: str,
    vendor_url: UrlFor,
    static_url: UrlFor,
    editor_js_url: str,
) -> folium.Map:
    """Build the project form's map: city outline, the shape being edited, and Draw's toolbar."""
    m, draw = _drawing_map(
        boundary,
        vendor_url,
        static_url,
        draw_options=DRAW_OPTIONS,
        edit_options=EDIT_OPTIONS,
        fit_city=True,
    )
    _Editor(
        draw,
        "AsoEditor",
        {"textarea": textarea_id, "geometry": geometry, "repaired": repaired},
        js=[("aso_project_editor", editor_js_url)],
    ).add_to(m)
    return m


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
) -> folium.Map:
    """Build the restriction form's map: the work, and the section and detour to draw."""
    # The editor fits the view to the work and its lines, not to the whole city.
    m, draw = _drawing_map(
        boundary,
        vendor_url,
        static_url,
        draw_options=LINE_DRAW_OPTIONS,
        edit_options={"poly": False},
        fit_city=False,
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
        js=[
            ("aso_project_editor", project_editor_js_url),
            ("aso_restriction_editor", editor_js_url),
        ],
    ).add_to(m)
    return m
