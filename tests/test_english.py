"""With ?lang=en, the pages people read first carry no Japanese interface text, only data."""

# Interface words only: names, departments, plan items and indicator names stay Japanese as data.
SHARED_JAPANESE = ["復旧・復興事業マップ", "近くの工事", "会議用", "ログイン"]


def test_main_pages_speak_english(client, make_project, make_user, login_as):
    project = make_project(name="宮地橋 補修", kind="bridge", status="construction", progress=30)
    pages = {
        "/": (
            ["Aso City Recovery Works Map", "Most works shown are sample data"],
            ["サンプルデータ", "指定避難所を除く"],
        ),
        f"/projects/{project.id}": (
            [
                "Bridge",
                "Under construction",
                "Planned period",
                "Links to the plan",
                "Status history",
            ],
            ["橋梁", "工事中", "予定期間", "計画との関係", "状況の履歴", "成果指標"],
        ),
        "/plan/indicators": (
            ["Indicators (Measure 13)", "Baseline (FY2020)", "Target (FY2024)", "By fiscal year"],
            ["成果指標", "基準値", "目標値", "年度別の推移", "会議用地図"],
        ),
        "/login": (
            ["Staff sign-in", "Username", "Password"],
            ["職員ログイン", "ログイン名", "パスワード", "管理者"],
        ),
    }
    for path, (english, japanese) in pages.items():
        html = client.get(path + "?lang=en").get_data(as_text=True)
        assert '<html lang="en">' in html, path
        for words in english:
            assert words in html, (path, words)
        for words in SHARED_JAPANESE + japanese:
            assert words not in html, (path, words)

    # Signed in, the menu and the dashboard's staff form are in English too.
    login_as(make_user(role="staff"))
    html = client.get("/plan/indicators?lang=en").get_data(as_text=True)
    assert "Sign out" in html and "Record a yearly or official figure (staff)" in html
    assert "ログアウト" not in html and "年度値・公式値を記録する" not in html

    # Staff pages name kinds and statuses, and refuse a change, in the reader's language.
    html = client.get("/projects/new?lang=en").get_data(as_text=True)
    assert ">River embankment<" in html and ">Not started<" in html and ">河川護岸<" not in html
    refused = client.post(
        f"/api/projects/{project.id}/updates?lang=en",
        json={"status": "planned", "progress": 0, "note": ""},
    )
    assert refused.status_code == 400
    assert "Under construction" in refused.get_json()["error"]
