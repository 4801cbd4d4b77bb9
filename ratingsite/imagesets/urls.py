from django.urls import path

from ratingsite.core.views import CollaboratorsUpdate
from ratingsite.imagesets import views
from ratingsite.imagesets.models import ImageSet

app_name = "imagesets"
urlpatterns = [
    path("", views.ImageSetList.as_view(), name="imageset-list"),
    path("import/", views.ImageSetImport.as_view(), name="imageset-import"),
    path("upload-synthetic/", views.SyntheticSetUpload.as_view(), name="imageset-upload-synthetic"),
    path("<int:pk>/", views.ImageSetDetail.as_view(), name="imageset-detail"),
    path("<int:pk>/collaborators/", CollaboratorsUpdate.as_view(model=ImageSet), name="imageset-collaborators"),
    path("images/<int:pk>/original", views.ImageFile.as_view(), name="image-file"),
    path("images/<int:pk>/<int:size>.png", views.ImageFile.as_view(), name="image-derived-file"),
    path("images/<int:pk>/thumbnail.png", views.ImageThumbnail.as_view(), name="image-thumbnail"),
]
