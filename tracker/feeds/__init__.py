"""The city's open data where others read it: work-zone feeds for navigation apps (WZDx, the
Waze closure feed) and the DCAT catalogue of the datasets."""
