import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.core.attachments import attachment_add, clean_file_name, validate_upload
from tests.testapp.models import Note

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def note(alice):
    return Note.objects.create(title="合同", owner=alice)


@pytest.fixture
def attachment(note, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("../../etc/合同.pdf", PDF, content_type="application/pdf")
    return attachment_add(target=note, upload=upload, by=alice)


def test_the_type_is_judged_by_content_not_by_name():
    assert validate_upload(SimpleUploadedFile("photo.txt", PNG)) == "image/png"
    assert validate_upload(SimpleUploadedFile("说明.txt", "你好".encode())) == "text/plain"
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile("report.pdf", EXE))
    assert error.value.code == "bad_type"


def test_oversized_and_empty_files_are_refused(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile("a.pdf", PDF))
    assert error.value.code == "too_large"
    settings.ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile("a.pdf", b""))
    assert error.value.code == "empty"


def test_file_names_cannot_traverse_paths():
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("..\\..\\boot.ini") == "boot.ini"
    assert clean_file_name("...") == "file"


def test_files_are_stored_under_a_random_name_outside_static(attachment, tmp_path):
    assert attachment.original_name == "合同.pdf"
    assert attachment.mime_type == "application/pdf"
    assert attachment.size == len(PDF)
    stored = tmp_path / attachment.file.name
    assert stored.read_bytes() == PDF
    assert "合同" not in attachment.file.name
    assert ".." not in attachment.file.name


def test_the_owner_downloads_it_as_an_attachment(client, alice, attachment):
    client.force_login(alice)
    response = client.get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_charlie_gets_404_for_an_attachment_on_alices_record(client, charlie, attachment):
    client.force_login(charlie)
    assert client.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404


def test_the_manager_of_the_team_may_download_it(client, manager, attachment):
    client.force_login(manager)
    assert client.get(reverse("attachment_download", args=[attachment.pk])).status_code == 200


def test_anonymous_users_are_sent_to_sign_in(client, attachment):
    response = client.get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
