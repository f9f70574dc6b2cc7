"""Default texts of the dealer-editable pages (privacy policy, terms, the car page's trust block), FI and EN.

Plain text: a blank line starts a new paragraph, a paragraph starting with "## " is a heading. The dealer's facts
(name, business id, address, phone, e-mail) are not written into these texts: the pages take them from the
dealer settings, so the texts never need a placeholder.
"""
from __future__ import annotations

PRIVACY_FI = """## Mitä tietoja keräämme ja miksi

Yhteydenotto ja kysymys autosta: nimi, sähköposti, puhelinnumero (vapaaehtoinen), viesti ja auto, jota kysymys koskee. Käytämme tietoja vastataksemme sinulle. Peruste: toimenpiteet, joita pyydät ennen mahdollista kauppaa, ja oikeutettu etumme hoitaa asiakassuhdetta.

Koeajovaraus: edellisten lisäksi toivottu päivä ja kellonaika. Käytämme niitä koeajon sopimiseen.

Rahoitushakemus: edellisten lisäksi käsiraha ja laina-aika. Käytämme niitä rahoitustarjouksen laatimiseen; luottopäätöksen tekee rahoitusyhtiö, jolle tiedot välitetään vain pyynnöstäsi.

Vaihtoauton arvio: edellisten lisäksi auton rekisterinumero, merkki, malli, vuosimalli ja mittarilukema. Käytämme niitä vaihtoautosi hinta-arvioon.

Uutiskirje: sähköpostiosoite ja tilauksen vahvistusaika. Lähetämme uutiskirjeen vain, kun olet vahvistanut tilauksen. Peruste: suostumuksesi, jonka voit perua jokaisen viestin peruutuslinkistä.

Hakuvahdit: sähköpostiosoite ja tallennetut hakuehdot. Lähetämme sähköpostin, kun hakuasi vastaava auto tulee myyntiin. Peruste: suostumuksesi; voit lopettaa vahdin jokaisen viestin linkistä.

Lomakkeiden mukana tallennamme lähetysajan ja teknisiä tietoja (IP-osoite, kampanjatunnisteet), jotta voimme estää roskapostia ja väärinkäyttöä. Peruste: oikeutettu etumme.

## Kuinka kauan säilytämme tietoja

Yhteydenottoja ja niiden käsittelymerkintöjä säilytämme enintään 24 kuukautta viimeisestä yhteydenotosta, ellei kirjanpito- tai kuluttajansuojalaki edellytä pidempää säilytystä (esimerkiksi toteutuneen kaupan asiakirjat). Uutiskirjeen ja hakuvahtien osoitteet poistamme, kun perut tilauksen.

## Kuka käsittelee tietoja

Tietoja käsittelevät vain myyjämme ja ylläpitäjämme. Palvelimet ja sähköpostipalvelu voivat olla alihankkijoiden ylläpitämiä; ne käsittelevät tietoja vain meidän lukuumme. Emme myy tietoja emmekä luovuta niitä markkinointiin.

## Suosikit ja vertailu: mitä tallennetaan minne

Suosikit ja vertailu eivät vaadi tiliä, evästettä eikä henkilötietoja. Tallentamasi autot säilytetään vain omassa selaimessasi (selaimen paikallinen tallennustila, localStorage): auton tunnistenumero, sen hinta tallennushetkellä ja tallennusaika. Vertailuun valitsemistasi autoista (enintään neljä) säilytetään samoin vain tunnistenumerot. Tiedot eivät lähde meille, paitsi autojen tunnistenumerot ja tallennushinnat sivun osoitteessa silloin, kun avaat suosikki- tai vertailusivun tai jakolinkin; käytämme niitä vain sivun näyttämiseen. Voit poistaa suosikit sivun Poista-painikkeilla tai tyhjentämällä selaimesi sivustotiedot.

Kielivalinta tallennetaan evästeeseen vain, jos vaihdat kieltä kielilinkistä.

## Oikeutesi

Sinulla on oikeus saada tietää, mitä tietoja sinusta on tallennettu, pyytää virheellisten tietojen korjaamista ja tietojen poistamista, vastustaa käsittelyä ja rajoittaa sitä sekä siirtää antamasi tiedot toiseen palveluun (EU:n tietosuoja-asetus). Suostumukseen perustuvan käsittelyn voit perua milloin tahansa. Lähetä pyyntö yllä olevaan sähköpostiosoitteeseen tai kysy myymälässä.

Voit tehdä valituksen tietosuojavaltuutetun toimistolle (tietosuoja.fi), jos katsot, että tietojasi käsitellään lain vastaisesti."""

PRIVACY_EN = """## What we collect and why

Contact and car inquiries: name, e-mail, phone number (optional), your message and the car it concerns. We use them to answer you. Legal basis: steps you ask for before a possible purchase, and our legitimate interest in serving customers.

Test drive bookings: in addition, the day and time you would like. We use them to arrange the test drive.

Financing applications: in addition, the down payment and the term. We use them to prepare a financing offer; the credit decision is made by the finance company, which receives the data only at your request.

Trade-in valuations: in addition, the car's registration number, make, model, model year and mileage. We use them to value your trade-in.

Newsletter: your e-mail address and when you confirmed the subscription. We send the newsletter only after you confirm it. Legal basis: your consent, which you can withdraw with the link in every message.

Saved-search e-mail alerts: your e-mail address and the saved search. We e-mail you when a matching car comes on sale. Legal basis: your consent; you can stop an alert with the link in every message.

With each form we store the time it was sent and technical data (IP address, campaign tags) to prevent spam and abuse. Legal basis: our legitimate interest.

## How long we keep it

We keep inquiries and their handling notes for at most 24 months after your last contact, unless accounting or consumer protection law requires longer (for example the documents of a completed sale). Newsletter and alert addresses are deleted when you unsubscribe.

## Who handles the data

Only our salespeople and administrators. Servers and the e-mail service may be run by subcontractors, who process the data only on our behalf. We never sell the data or pass it on for marketing.

## Favourites and compare: what is stored where

Favourites and compare need no account, no cookie and no personal data. The cars you save are kept only in your own browser (its local storage, localStorage): the car's id, its price when you saved it and the time you saved it. Of the cars you choose to compare (at most four), likewise only their ids are kept. None of this is sent to us, except the car ids and saved prices in the page address when you open the favourites or compare page or a share link; we use them only to show you that page. You can delete your favourites with the Remove buttons on the page or by clearing your browser's site data.

Your language choice is stored in a cookie only if you switch language with the language link.

## Your rights

Under the EU General Data Protection Regulation you have the right to know what data we hold about you, to have wrong data corrected and data erased, to object to and restrict processing, and to take the data you gave us to another service. You can withdraw a consent at any time. Send your request to the e-mail address above or ask us at the shop.

You may lodge a complaint with the Data Protection Ombudsman (tietosuoja.fi) if you think your data is processed unlawfully."""

TERMS_FI = """## Hinnat ja tiedot

Hinnat sisältävät arvonlisäveron, ellei toisin mainita. Pidämme autojen tiedot ajan tasalla, mutta varmista sinulle tärkeät tiedot myyjältä ennen kauppaa. Varaus on voimassa, kun myyjä on vahvistanut sen.

## Rahoitus

Rahoitusesimerkit ovat suuntaa-antavia. Lopulliset ehdot ja luottopäätöksen antaa rahoitusyhtiö.

## Etäkauppa

Jos teet kaupan kokonaan etänä (esimerkiksi puhelimessa tai sähköpostilla näkemättä autoa), sinulla on kuluttajansuojalain mukainen 14 päivän peruuttamisoikeus auton vastaanottamisesta. Myymälässä tehdyssä kaupassa peruuttamisoikeutta ei ole.

## Virhevastuu

Vastaamme auton virheistä kuluttajansuojalain mukaan. Ilmoita havaitsemastasi viasta meille kohtuullisessa ajassa."""

TERMS_EN = """## Prices and details

Prices include VAT unless stated otherwise. We keep the cars' details up to date, but check what matters to you with the salesperson before you buy. A reservation holds once the salesperson has confirmed it.

## Financing

Financing examples are indicative. The final terms and the credit decision come from the finance company.

## Distance sales

If you buy entirely at a distance (for example by phone or e-mail without seeing the car), you have a 14-day right of withdrawal under the Finnish Consumer Protection Act, counted from when you receive the car. There is no right of withdrawal for a purchase made at the shop.

## Liability for defects

We are liable for defects under the Consumer Protection Act. Tell us about a defect you find within a reasonable time."""

WARRANTY_FI = ("Myymme autot kuluttajansuojalain mukaisella virhevastuulla. Useimpiin autoihin saat lisäksi "
               "vaihtoautoturvan: kysy myyjältä tämän auton takuu- ja turvavaihtoehdot.")
WARRANTY_EN = ("We sell our cars with the liability for defects of the Finnish Consumer Protection Act. For most "
               "cars you can also get a used-car warranty: ask the salesperson about the options for this car.")
INSPECTION_FI = ("Tarkastamme jokaisen auton ennen myyntiä: huoltohistoria, renkaat, jarrut ja vikakoodit. "
                 "Tarkastusraportti on nähtävissä myymälässä.")
INSPECTION_EN = ("We inspect every car before sale: service history, tyres, brakes and fault codes. The inspection "
                 "report is available at the shop.")
RETURNS_FI = ("Etäkaupassa sinulla on 14 päivän peruuttamisoikeus auton vastaanottamisesta (kuluttajansuojalaki). "
              "Myymälässä tehdyssä kaupassa peruuttamisoikeutta ei ole.")
RETURNS_EN = ("In a distance sale you have a 14-day right of withdrawal from when you receive the car (Consumer "
              "Protection Act). There is no right of withdrawal for a purchase made at the shop.")

# The "pages" settings group: name -> default text
PAGES: dict[str, str] = {
    "privacy_fi": PRIVACY_FI, "privacy_en": PRIVACY_EN, "terms_fi": TERMS_FI, "terms_en": TERMS_EN,
    "warranty_fi": WARRANTY_FI, "warranty_en": WARRANTY_EN, "inspection_fi": INSPECTION_FI,
    "inspection_en": INSPECTION_EN, "returns_fi": RETURNS_FI, "returns_en": RETURNS_EN,
}
