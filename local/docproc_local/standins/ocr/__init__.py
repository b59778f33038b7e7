"""The OCR behind the local Textract: documents to page images (:mod:`.documents`), Tesseract (:mod:`.tesseract`).

Local mode only (Pillow, pypdfium2 and the Debian Tesseract packages come with the ``local`` extra and
``make setup``); nothing here ships to Lambda.
"""
