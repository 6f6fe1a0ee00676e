"""Folium maps of Aso City that load only our own, locally served scripts and styles.

Projects are not folium objects: the city map hands a vector tile URL to
project_layers.js, which draws them in the browser from the tiles in view, so building
and showing the map costs the same for ten projects or a hundred thousand.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import xyzservices
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template
from markupsafe import Markup

UrlFor = Callable[[str], str]

GSI_TILES_URL = "https://maps.gsi.go.jp/development/ichiran.html"
# The credit GSI asks for; pages in another language pass their own (maps.page_data).
GSI_ATTRIBUTION = f'<a href="{GSI_TILES_URL}" target="_blank" rel="noopener">地理院タイル</a>'

# The city map's own data, credited beside the tiles so that every source stays in view even
# on a phone, where the page has no room for a footer under the map.
CITY_DATA_ATTRIBUTION = (
    "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成 | 指定避難所: 国土地理院"
)
# Leaflet's credit for itself, with a title in the page's language (maps.page_data).
LEAFLET_PREFIX = '<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>'
# (name in the layer control, GSI tile set, file type); the first is the default.
BASE_LAYERS = (
    ("地理院 標準地図", "std", "png"),
    ("地理院 淡色地図", "pale", "png"),
    ("地理院 写真", "seamlessphoto", "jpg"),
)
# The GSI's tiles, unless the app is set to another source (MAP_TILE_URL).
GSI_TILE_TEMPLATE = "https://cyberjapandata.gsi.go.jp/xyz/{tileset}/{z}/{x}/{y}.{ext}"
MAX_ZOOM = 18
PROJECT_ZOOM = 16  # a single point project is shown at this zoom
ASO_CENTER = (32.95, 131.12)  # only used before bounds are known
CITY_ZOOM = 12  # with ASO_CENTER: the view of a map that has nothing to fit to

VECTORGRID_JS = "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"

BOUNDARY_STYLE = {"color": "#222222", "weight": 2, "opacity": 0.8, "fill": False}
PROJECT_STYLE = {
    "color": "#0b2e59",
    "weight": 5,
    "fillColor": "#0072b2",
    "fillOpacity": 0.35,
}
# As map_overlays.js draws them on the city maps: a restriction's section in red dashes
# over a dark casing, its detour in green dots, unlike any work's line.
SECTION_CASING_STYLE = {"color": "#4d0010", "weight": 11, "opacity": 0.9}
SECTION_STYLE = {"color": "#d7191c", "weight": 7, "opacity": 1, "dashArray": "12 8"}
# A line kind known only by its position: a hollow, dashed ring, not a filled mark.
POSITION_ONLY_STYLE = {
    "color": "#0b2e59",
    "weight": 3,
    "dashArray": "4 3",
    "fillColor": "#ffffff",
    "fillOpacity": 1,
    "opacity": 1,
}
DETOUR_STYLE = {"color": "#00796b", "weight": 5, "opacity": 0.95, "dashArray": "2 8"}


def _default_static_url(path: str) -> str:
    return f"/static/{path}"


@dataclass(frozen=True)
class MapParts:
    """A rendered map for a page: header in <head>, html where the map goes,
    script (plain JavaScript) inside a <script> element after html.

    The header's scripts are deferred, so that they never hold up the page's first paint;
    the script waits for them (DOMContentLoaded) before it draws the map. A page's own
    scripts that use the map are deferred too, after the header's.
    """

    header: str
    html: str
    script: str


class _PageMap(folium.Map):
    # folium's own Map template also styles html/body, adds a viewport meta that
    # blocks pinch zoom and can call jQuery; here the page owns its layout.
    css_class: str
    zoom_titles: dict[str, str]
    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="aso-map {{ this.css_class }}" id="{{ this.get_name() }}"></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {# No view yet: the layers wait for the first one, which fitting the map to its
           shapes sets (or, failing that, the end of the script), so that no tiles are
           fetched and drawn for a view that is left at once. #}
        var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
            ...{{ this.options|tojavascript }}
        });
        {# Our own zoom control: Leaflet's says "Zoom in" in English on every page. #}
        L.control.zoom({{ this.zoom_titles|tojson }}).addTo({{ this.get_name() }});
        L.control.scale({imperial: false}).addTo({{ this.get_name() }});
        {% endmacro %}
        """
    )


class _ControlWords(MacroElement):
    # Leaflet writes a few words of its own (the layer button's "Layers", the credit's
    # "A JavaScript library for interactive maps"): once every control is on the map, this
    # puts the page's words in their place.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, words) {
            if (map.attributionControl) map.attributionControl.setPrefix(words.prefix);
            map.getContainer().querySelectorAll(".leaflet-control-layers-toggle").forEach(
                function (toggle) {
                    toggle.title = words.layers;
                    toggle.setAttribute("aria-label", words.layers);
                });
        })({{ this._parent.get_name() }}, {{ this.words_js }});
        {% endmacro %}
        """
    )

    def __init__(self, words: dict) -> None:
        super().__init__()
        self._name = "ControlWords"
        self.words_js = script_json(words)


def finish_controls(m: folium.Map, labels: dict | None) -> None:
    """Put the page's words into Leaflet's own controls; call after the last control is added."""
    labels = labels or {}
    _ControlWords(
        {
            "prefix": labels.get("attribution_prefix", LEAFLET_PREFIX),
            "layers": labels.get("layers", "表示する地図・事業"),
        }
    ).add_to(m)


class _ProjectLayers(JSCSSMixin):
    # One call into project_layers.js; the options are escaped JSON, except
    # layer_control, which tojavascript turns into the control's JS variable.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        AsoProjects.addTo({{ this._parent.get_name() }}, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, js: list, css: list) -> None:
        super().__init__()
        self._name = "AsoProjects"
        self.options = options
        self.default_js = js
        self.default_css = css


class _Overlays(JSCSSMixin):
    # The designated shelters and traffic restrictions, each its own switchable layer.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        AsoOverlays.addTo({{ this._parent.get_name() }}, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, js: list) -> None:
        super().__init__()
        self._name = "AsoOverlays"
        self.options = options
        self.default_js = js
        self.default_css = []


class _HazardLayers(JSCSSMixin):
    # One call into hazard_layers.js: each hazard becomes an overlay of the layer control.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        AsoHazards.addTo({{ this._parent.get_name() }}, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, js: list) -> None:
        super().__init__()
        self._name = "AsoHazards"
        self.options = options
        self.default_js = js
        self.default_css = []


class Shapes(MacroElement):
    """Fixed GeoJSON geometries drawn with one style; the view is fitted to them."""

    def __init__(
        self,
        geojson: dict,
        style: dict,
        *,
        max_zoom: int,
        attribution: str = "",
        fit: bool = True,
        css_class: str = "",
    ) -> None:
        super().__init__()
        self._name = "Shapes"
        self.geometries = _geometries(geojson)
        # Not interactive: clicks go through to the project layers beneath.
        self.options = {"style": style, "interactive": False, "attribution": attribution}
        if css_class:
            self.options["className"] = css_class
        self.max_zoom = max_zoom
        self.fit = fit

    # branca types Element.render as returning text; a MacroElement's, like this, adds to
    # the page and returns nothing.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the drawing script to the page."""
        root = self.get_root()
        if self._parent is None or not isinstance(root, Figure):
            raise RuntimeError("Shapes are drawn on a map inside a page: add them to one first")
        # Handed over as a finished string: a folium template's output is compiled
        # again by branca as a Jinja template, which for a detailed boundary took
        # longer than everything else put together (and would read "{{" in data).
        circle = "function (feature, latlng) { return L.circleMarker(latlng, {radius: 10}); }"
        map_name = self._parent.get_name()
        layer = self.get_name()
        # The view is set first, the shapes drawn in the next step (render_parts): each is
        # a good part of building a map, too much for one task on a phone.
        script = (
            f"var {layer} = L.geoJSON({script_json(self.geometries)},\n"
            f"  L.extend({script_json(self.options)}, {{pointToLayer: {circle}}}));\n"
            + (
                f"if ({layer}.getBounds().isValid())\n"
                # At once, not animated: the first tiles are then those of the fitted view.
                f"  {map_name}.fitBounds({layer}.getBounds(),"
                f" {{maxZoom: {int(self.max_zoom)}, animate: false}});\n"
                if self.fit
                else ""
            )
        )
        root.script.add_child(_Text(script), name=layer)
        root.script.add_child(_Text(f"{layer}.addTo({map_name});\n"), name=f"{layer}_drawn")


class _Text(Element):
    """Text put into the page as it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text."""
        return self.text


def build_city_map(
    *,
    boundary: dict,
    tiles_url: str,
    feature_url_template: str,
    vendor_url: UrlFor,
    project_url_template: str,
    count: int | None = None,
    static_url: UrlFor = _default_static_url,
    labels: dict | None = None,
    kind_control: bool = True,
    overlays: dict | None = None,
    hazard_layers: list[dict] | None = None,
) -> folium.Map:
    """Build the city map: GSI base layers, the city outline, the projects, the overlays
    and hazard zones.

    `tiles_url` is the projects' vector tile template ({z}/{y}/{x}), `feature_url_template`
    the JSON of one project ({id}) that popups read, and `count` how many projects the
    tiles hold. `kind_control` puts a switch per kind in the layer control; a page that
    filters kinds itself turns it off, so that there is one kind filter. `overlays` names the
    layers drawn beside the works: {"facilities": {"url", "pageUrl"}, "restrictions": {"url",
    "projectUrl"}}. `hazard_layers` lists the hazard overlays ({hazard, label, url,
    attribution}), each off until switched on.

    `labels` gives the page's words: base layer names by tile set under "base_layers",
    credits ("attribution", "city_data_attribution"), zoom button titles ("zoom"), what
    project_layers.js shows ("text", "statuses", "kinds", "glyphs") and what map_overlays.js
    shows ("overlays").
    """
    labels = labels or {}
    m = base_map("aso-map--city", vendor_url, static_url, labels=labels)
    credit = labels.get("city_data_attribution", CITY_DATA_ATTRIBUTION)
    # The outline first: fitted to it, the map has its view before any layer is added, and
    # each layer is then drawn in a step of its own (render_parts), not all at once.
    Shapes(boundary, BOUNDARY_STYLE, max_zoom=MAX_ZOOM, attribution=credit).add_to(m)
    add_base_layers(m, labels)
    # Collapsed is Leaflet's phone-friendly default; project_layers.js opens it on wide maps.
    control = folium.LayerControl(collapsed=True).add_to(m)
    # Added after the control: its script refers to the control's variable.
    _ProjectLayers(
        options={
            "tiles": tiles_url,
            "feature_url": feature_url_template,
            "project_url": project_url_template,
            "count": count,
            "layer_control": control,
            "kind_switches": kind_control,
            "labels": {
                key: labels[key] for key in ("text", "statuses", "kinds", "glyphs") if key in labels
            },
        },
        js=[
            ("vectorgrid", vendor_url(VECTORGRID_JS)),
            ("aso_project_layers", static_url("js/project_layers.js")),
        ],
        css=[],
    ).add_to(m)
    if overlays:
        _Overlays(
            options={
                "layer_control": control,
                "labels": labels.get("overlays", {}),
                **overlays,
            },
            js=[("aso_map_overlays", static_url("js/map_overlays.js"))],
        ).add_to(m)
    if hazard_layers:
        _HazardLayers(
            options={"layers": hazard_layers, "layer_control": control},
            js=[("aso_hazard_layers", static_url("js/hazard_layers.js"))],
        ).add_to(m)
    finish_controls(m, labels)
    return m


def build_project_map(
    *,
    feature: dict,
    vendor_url: UrlFor,
    static_url: UrlFor = _default_static_url,
    labels: dict | None = None,
    sections: Sequence[dict] = (),
    detours: Sequence[dict] = (),
) -> folium.Map:
    """Build a small map of one project's geometry on the GSI standard map, with the
    sections its traffic restrictions close or narrow and their detours (GeoJSON lines)."""
    labels = labels or {}
    m = base_map("aso-map--project", vendor_url, static_url, labels=labels)
    name, tileset, ext = BASE_LAYERS[0]
    names = labels.get("base_layers", {})
    _gsi_layer(names.get(tileset, name), tileset, ext, show=True, labels=labels).add_to(m)
    position_only = bool((feature.get("properties") or {}).get("position_only"))
    style = POSITION_ONLY_STYLE if position_only else PROJECT_STYLE
    Shapes(
        feature,
        style,
        max_zoom=PROJECT_ZOOM,
        css_class="aso-position-only" if position_only else "",
    ).add_to(m)
    if sections:
        collection = {"type": "GeometryCollection", "geometries": list(sections)}
        Shapes(collection, SECTION_CASING_STYLE, max_zoom=PROJECT_ZOOM, fit=False).add_to(m)
        Shapes(
            collection, SECTION_STYLE, max_zoom=PROJECT_ZOOM, fit=False, css_class="aso-section"
        ).add_to(m)
    # Detours over the sections: a way round is never hidden under a red line.
    if detours:
        collection = {"type": "GeometryCollection", "geometries": list(detours)}
        Shapes(
            collection, DETOUR_STYLE, max_zoom=PROJECT_ZOOM, fit=False, css_class="aso-detour"
        ).add_to(m)
    finish_controls(m, labels)
    return m


def render_parts(m: folium.Map) -> MapParts:
    """Render a map into the pieces a page template places in its own layout."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise RuntimeError("a folium map's root is the page Figure")
    # The page declares its own charset; a second declaration is invalid HTML.
    root.header._children.pop("meta_http", None)
    root.render()  # every element adds its pieces to root.header / html / script
    name = m.get_name()
    # A map with nothing to fit to shows the city.
    fallback = (
        f"if (!{name}._loaded) {name}.setView({script_json(list(ASO_CENTER))}, {CITY_ZOOM});\n"
    )
    steps = [child.render() for child in root.script._children.values()] + [fallback]
    return MapParts(
        header=Markup(_deferred(root.header.render())),
        html=Markup(root.html.render()),
        script=Markup(_after_deferred_scripts(steps, name)),
    )


def _deferred(header: str) -> str:
    """Return the header with its script files deferred: fetched while the page is read and
    run, in order, once it has been."""
    return _SCRIPT_FILE.sub(r"<script defer\1", header)


_SCRIPT_FILE = re.compile(r"<script(\s+src=)")


# Between two steps of the map's script that follow a few milliseconds of work, the browser
# may draw a frame and answer a tap: on a phone's slow processor the whole map built at once
# held the page still for a long moment. Light steps (a layer object made) run on together.
_NEXT_STEP = """var stepStart = performance.now();
var nextStep = async function () {
  if (performance.now() - stepStart < 4) return;
  await (window.scheduler && scheduler.yield ? scheduler.yield()
    : new Promise(function (resolve) { setTimeout(resolve, 0); }));
  stepStart = performance.now();
};
"""


def _after_deferred_scripts(steps: list[str], name: str) -> str:
    """Return the map's script steps wrapped to run once the deferred scripts have (Leaflet
    first), a step that follows a few milliseconds of work in a task of its own; then the map
    says it is built: window.asoMapBuilt holds it, and the window gets the event aso:mapbuilt."""
    body = "\nawait nextStep();\n".join(steps)
    built = f'window.asoMapBuilt = {name};\nwindow.dispatchEvent(new Event("aso:mapbuilt"));\n'
    return (
        'document.addEventListener("DOMContentLoaded", async function () {\n'
        f"{_NEXT_STEP}{body}\n{built}}});\n"
    )


def base_map(
    css_class: str, vendor_url: UrlFor, static_url: UrlFor, *, labels: dict | None = None
) -> folium.Map:
    """Return an empty map that loads Leaflet and our map styles from this server.

    `labels` gives the page's words; "zoom" holds the zoom buttons' titles.
    """
    m = _PageMap(location=ASO_CENTER, zoom_start=CITY_ZOOM, tiles=None, zoom_control=False)
    m.css_class = css_class
    m.zoom_titles = {
        "zoomInTitle": "拡大",
        "zoomOutTitle": "縮小",
        **(labels or {}).get("zoom", {}),
    }
    m.options["max_zoom"] = MAX_ZOOM
    # Half zoom steps let the whole city fill a phone's width when the map fits its bounds.
    m.options["zoom_snap"] = 0.5
    # Tiles shown at once: fading each in redraws every tile on each frame of the page's
    # busiest moment, which a phone's slow processor feels most.
    m.options["fade_animation"] = False
    # New lists on the instance: folium's defaults are CDN URLs in module-level
    # lists shared by every map, so they must be neither used nor mutated.
    m.default_js = [("leaflet", vendor_url("leaflet/dist/leaflet.js"))]
    m.default_css = [
        ("leaflet_css", vendor_url("leaflet/dist/leaflet.css")),
        ("aso_map_css", static_url("css/map.css")),
    ]
    return m


def add_base_layers(m: folium.Map, labels: dict | None = None) -> None:
    """Add the GSI base layers to a map, the first shown, named and credited by `labels`."""
    labels = labels or {}
    names = labels.get("base_layers", {})
    for index, (name, tileset, ext) in enumerate(BASE_LAYERS):
        layer = _gsi_layer(names.get(tileset, name), tileset, ext, show=index == 0, labels=labels)
        layer.add_to(m)


def _gsi_layer(name: str, tileset: str, ext: str, *, show: bool, labels: dict) -> folium.TileLayer:
    # A TileProvider rather than a URL string: folium looks a string up among
    # xyzservices' ~1,000 named providers first, which costs ~8 ms per layer.
    provider = xyzservices.TileProvider(
        name=name,
        url=tile_url(labels.get("tile_url"), tileset, ext),
        attribution="地理院タイル",
        html_attribution=labels.get("attribution", GSI_ATTRIBUTION),
        max_zoom=MAX_ZOOM,
    )
    return folium.TileLayer(tiles=provider, name=name, show=show)


def tile_url(template: str | None, tileset: str, ext: str) -> str:
    """Return a base layer's {z}/{x}/{y} URL from the tile template (MAP_TILE_URL)."""
    template = template or GSI_TILE_TEMPLATE
    return template.replace("{tileset}", tileset).replace("{ext}", ext)


def _geometries(geojson: dict) -> list:
    """Return the geometries of a FeatureCollection, Feature or bare geometry."""
    # Properties are dropped: the outline needs none, and names stay out of the page.
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        geometries = [f.get("geometry") for f in geojson.get("features") or []]
    elif kind == "GeometryCollection":
        geometries = list(geojson.get("geometries") or [])
    elif kind == "Feature":
        geometries = [geojson.get("geometry")]
    else:
        geometries = [geojson]
    return [g for g in geometries if g]


def script_json(value: object) -> str:
    """Return JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
