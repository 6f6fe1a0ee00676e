<?xml version="1.0" encoding="utf-8"?>
{# Shows the Atom feed as a page when a browser opens it; feed readers ignore this. #}
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:xhtml="http://www.w3.org/1999/xhtml" exclude-result-prefixes="atom xhtml">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
  <xsl:template match="/atom:feed">
    <html lang="{{ lang }}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}"/>
        <link rel="stylesheet" href="{{ url_for('static', filename='css/near.css') }}"/>
      </head>
      <body class="feed-page">
        <header class="site-header">
          <a class="site-title" href="{{ url_for('web.city_map', lang=lang if lang != 'ja' else None) }}">{{ _("阿蘇市 復旧・復興事業マップ") }}</a>
        </header>
        <main id="main" class="near">
          <h1><xsl:value-of select="atom:title"/></h1>
          <p class="notice" role="note">{{ _("これはフィード（Atom）です。フィードリーダーのアプリにこのページのアドレスを登録すると、工事の状況が変わったときにお知らせが届きます。") }}</p>
          <p><a href="{atom:link[@rel='alternate']/@href}">{{ _("この範囲の工事の一覧を開く") }}</a></p>
          <h2>{{ _("最近の更新") }}</h2>
          <xsl:choose>
            <xsl:when test="atom:entry">
              <ol class="feed-entries">
                <xsl:for-each select="atom:entry">
                  <li>
                    <a href="{atom:link/@href}" data-names=""><xsl:value-of select="atom:title"/></a>
                    <span class="feed-entry__date"><xsl:value-of select="substring(atom:updated, 1, 10)"/></span>
                    <xsl:choose>
                      <xsl:when test="atom:content[@type='xhtml']">
                        <p><xsl:apply-templates select="atom:content/xhtml:div/node()"/></p>
                      </xsl:when>
                      <xsl:otherwise><p><xsl:value-of select="atom:summary"/></p></xsl:otherwise>
                    </xsl:choose>
                  </li>
                </xsl:for-each>
              </ol>
            </xsl:when>
            <xsl:otherwise><p>{{ _("この範囲の更新はまだありません。") }}</p></xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>
  <!-- Quoted words keep their language mark; nothing else of the content is copied. -->
  <xsl:template match="xhtml:span[@lang]">
    <span lang="{@lang}"><xsl:value-of select="."/></span>
  </xsl:template>
</xsl:stylesheet>
